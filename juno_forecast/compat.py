"""The pandas 2 / pandas 3 differences the package meets, handled in one place.

pandas 3 infers the resolution of parsed timestamps (``datetime64[us]`` for
most strings and files, not always ``[ns]``), so an index's raw integers
(``asi8``) are in its own unit while ``Timestamp.value`` stays nanoseconds. (Under
copy-on-write ``to_numpy()`` may hand back a read-only view: code that writes
into an array asks for a copy, ``to_numpy(dtype=float, copy=True)``; on pandas
2.2 ``np.array(series, dtype=float)`` can still be a read-only view.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def epoch_ns(values: Any) -> np.ndarray:
    """Nanoseconds since 1970-01-01 of each timestamp, whatever the index's resolution.

    The integers compare with ``pd.Timestamp(x).value`` (always nanoseconds);
    ``DatetimeIndex.asi8`` alone counts in the index's unit (``us`` on pandas 3).
    """
    index = pd.DatetimeIndex(values)
    return np.asarray(index.as_unit("ns").asi8)
