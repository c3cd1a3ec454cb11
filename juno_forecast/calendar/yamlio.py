"""Safe YAML reading that keeps the line of every value.

The file is *composed* (parsed into a node tree) by a ``yaml.SafeLoader``
subclass and never handed to a constructor that could build objects: each
node is turned into a :class:`YNode` (plain value + line) by this module,
which accepts only the standard scalar, list and mapping tags. Any other tag
(``!!python/object/apply:os.system``, ``!custom``...) is reported as an error
with its line, and nothing it names is imported or run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

_Y = "tag:yaml.org,2002:"
SCALAR_TAGS = {_Y + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


class _Refused:
    """Stands in for a value whose tag was refused (already reported once)."""

    def __repr__(self) -> str:
        return "<refused>"


REFUSED = _Refused()


class LineLoader(yaml.SafeLoader):
    """A safe loader used only to compose nodes (marks give the lines)."""


@dataclass
class YNode:
    """A YAML value with the (1-based) line it starts on.

    ``value`` is a ``dict[str, YNode]`` for a mapping (``key_lines`` holds each
    key's line), a ``list[YNode]`` for a sequence, else a plain scalar
    (str, int, float, bool, None, ``datetime.date`` or ``datetime.datetime``).
    """

    value: Any
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value with nodes stripped (for messages and tests)."""
        if self.is_map:
            return {k: v.plain() for k, v in self.value.items()}
        if self.is_list:
            return [v.plain() for v in self.value]
        return self.value


@dataclass
class Problem:
    """A problem found while reading, before validation (line, path, expected, got)."""

    line: int
    path: str
    expected: str
    got: str


def read_yaml(text: str) -> tuple[YNode | None, list[Problem]]:
    """Parse ``text`` into a :class:`YNode` tree; return it and the problems found.

    A syntax error gives ``(None, [problem])``. Unknown tags and duplicate keys
    are problems; the rest of the tree is still returned so validation can go on.
    """
    loader = LineLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(line, "(file)", "valid YAML", (e.problem or str(e)).strip())]
    except yaml.YAMLError as e:
        return None, [Problem(1, "(file)", "valid YAML", str(e).splitlines()[0])]
    finally:
        loader.dispose()
    if root is None:
        return YNode({}, 1), []
    problems: list[Problem] = []
    return _convert(root, "", problems, LineLoader("")), problems


def _convert(node: yaml.Node, path: str, problems: list[Problem], loader: LineLoader) -> YNode:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        return _convert_map(node, path, problems, loader)
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _Y + "seq":
            problems.append(Problem(line, path or "(file)", "plain YAML data", _tag(node.tag)))
            return YNode(REFUSED, line)
        items = [_convert(n, f"{path}[{i}]", problems, loader) for i, n in enumerate(node.value)]
        return YNode(items, line)
    if node.tag not in SCALAR_TAGS:
        problems.append(Problem(line, path or "(file)", "plain YAML data", _tag(node.tag)))
        return YNode(REFUSED, line)
    return YNode(_scalar(node, loader), line)


def _convert_map(
    node: yaml.MappingNode, path: str, problems: list[Problem], loader: LineLoader
) -> YNode:
    line = node.start_mark.line + 1
    if node.tag != _Y + "map":
        problems.append(Problem(line, path or "(file)", "plain YAML data", _tag(node.tag)))
        return YNode(REFUSED, line)
    n_explicit = sum(1 for k, _ in node.value if k.tag != _Y + "merge")
    try:
        loader.flatten_mapping(node)  # resolves "<<" merge keys on the node tree only
    except yaml.MarkedYAMLError as e:
        problems.append(Problem(line, path or "(file)", "a valid merge key", str(e.problem)))
    n_merged = len(node.value) - n_explicit  # merged pairs come first; explicit keys override them
    out: dict[str, YNode] = {}
    key_lines: dict[str, int] = {}
    merged: set[str] = set()
    for i, (key_node, value_node) in enumerate(node.value):
        key_line = key_node.start_mark.line + 1
        key = _scalar(key_node, loader) if isinstance(key_node, yaml.ScalarNode) else None
        sub = f"{path}.{key}" if path else str(key)
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in SCALAR_TAGS:
            problems.append(
                Problem(key_line, path or "(file)", "a plain text key", "a complex key")
            )
            continue
        key = str(key)
        if i < n_merged:
            merged.add(key)
        elif key in merged:
            merged.discard(key)
            out.pop(key)
        if key in out:
            problems.append(
                Problem(
                    key_line,
                    sub,
                    "each key once",
                    f"{key!r} repeated (first on line {key_lines[key]})",
                )
            )
            continue
        key_lines[key] = key_line
        out[key] = _convert(value_node, sub, problems, loader)
    return YNode(out, line, key_lines)


def _tag(tag: str) -> str:
    """A tag as the user wrote it (``!!python/object...``), for messages."""
    short = "!!" + tag[len(_Y) :] if tag.startswith(_Y) else tag
    return f"the tag {short} (object-constructing tags are refused)"


def _scalar(node: yaml.ScalarNode, loader: LineLoader) -> Any:
    """Build a standard scalar; an impossible timestamp (2015-02-30) stays its text."""
    if node.tag == _Y + "timestamp":
        try:
            return loader.construct_yaml_timestamp(node)
        except ValueError:
            return node.value
    constructor = loader.yaml_constructors[node.tag]
    return constructor(loader, node)
