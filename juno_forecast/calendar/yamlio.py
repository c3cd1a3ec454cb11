"""Safe YAML reading that keeps the line of every value.

The file is *composed* (parsed into a node tree) by a ``yaml.SafeLoader``
subclass and never handed to a constructor that could build objects: each
node is turned into a :class:`YNode` (plain value + line) by this module,
which accepts only the standard scalar, list and mapping tags. Any other tag
(``!!python/object/apply:os.system``, ``!custom``...) is reported as an error
with its line, and nothing it names is imported or run.

Hostile files are refused before they cost time or memory (a calendar or
config under :data:`MAX_BYTES` reads in about a second): at most
:data:`MAX_BYTES` of text, :data:`MAX_ALIASES` aliases, :data:`MAX_ALIAS_VALUES`
values copied by aliases (an "alias bomb" of nested lists of aliases expands
exponentially), :data:`MAX_VALUES` values in all (a megabyte of ``[1,1,1,...``
would otherwise become half a million nodes and as many errors) and
:data:`MAX_DEPTH` levels of nesting, aliases expanded. An
alias inside its own anchor (``x: &a [*a]``) is refused rather than followed
forever. Each breach is one problem with its line, like a syntax error.

Events come from libyaml (C) when PyYAML has it, five times faster than the
pure-Python scanner; composing the nodes stays in Python, where the caps are kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:  # libyaml's event parser; composing stays in Python (the caps below live there)
    from yaml._yaml import CParser as _EventParser
except ImportError:  # PyYAML built without libyaml: the pure-Python reader/scanner/parser
    _EventParser = None

_Y = "tag:yaml.org,2002:"
SCALAR_TAGS = {_Y + t for t in ("str", "int", "float", "bool", "null", "timestamp")}

#: largest YAML text read (1 MiB); a calendar or config is a few tens of kilobytes
MAX_BYTES = 1 << 20
#: most aliases (``*name``) in one file
MAX_ALIASES = 1_000
#: most values (scalars, lists, mappings) all aliases together may copy
MAX_ALIAS_VALUES = 100_000
#: most values in a file, aliases' copies included (a 1 MB calendar of 3,000 events has 78,000)
MAX_VALUES = 100_000
#: deepest nesting of lists and mappings, aliases expanded (the shipped calendar uses 6)
MAX_DEPTH = 50


class _Refused:
    """Stands in for a value whose tag was refused (already reported once)."""

    def __repr__(self) -> str:
        return "<refused>"


REFUSED = _Refused()


class _Limit(Exception):
    """A cap of this module breached at ``line``: what was ``expected``, what was ``got``."""

    def __init__(self, line: int, expected: str, got: str):
        super().__init__(f"line {line}: expected {expected}, got {got}")
        self.line, self.expected, self.got = line, expected, got


class _CappedComposer(Composer):
    """PyYAML's composer, counting aliases, the values they copy and the nesting depth.

    Every finished node's expanded size and depth are kept (by ``id``), so an
    alias costs what its anchor would cost written out, known before anything
    is expanded.
    """

    def __init__(self) -> None:
        super().__init__()
        self._stats: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth)
        self._open: set[str] = set()  # anchors being composed
        self._level = 0
        self._aliases = 0
        self._copied = 0
        self._values = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            return self._alias(parent, index, event.anchor, line)
        self._level += 1
        self._count(1, line)
        if self._level > MAX_DEPTH:
            raise _Limit(line, f"at most {MAX_DEPTH} levels of nesting", "deeper nesting")
        if event.anchor is not None:
            self._open.add(event.anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._level -= 1
            self._open.discard(event.anchor)
        self._stats[id(node)] = stats = self._measure(node)
        if stats[1] > MAX_DEPTH:
            raise _Limit(
                line, f"at most {MAX_DEPTH} levels of nesting", "deeper nesting through aliases"
            )
        return node

    def _alias(self, parent: yaml.Node | None, index: Any, anchor: str, line: int) -> yaml.Node:
        if anchor in self._open:
            raise _Limit(
                line,
                "an alias of a finished anchor",
                f"the alias *{anchor} inside its own anchor &{anchor} (a self-reference)",
            )
        node = super().compose_node(parent, index)  # an undefined alias raises ComposerError
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise _Limit(line, f"at most {MAX_ALIASES} aliases", f"more at *{anchor}")
        self._copied += self._stats[id(node)][0]
        if self._copied > MAX_ALIAS_VALUES:
            raise _Limit(
                line,
                f"aliases copying at most {MAX_ALIAS_VALUES} values in all",
                f"{self._copied} by *{anchor} (nested aliases multiply)",
            )
        self._count(self._stats[id(node)][0], line)
        return node

    def _count(self, values: int, line: int) -> None:
        """Add ``values`` to the file's total; past :data:`MAX_VALUES` the file is refused."""
        self._values += values
        if self._values > MAX_VALUES:
            raise _Limit(
                line,
                f"at most {MAX_VALUES} values (lists, mappings and scalars) in the file",
                "more by this line",
            )

    def _measure(self, node: yaml.Node) -> tuple[int, int]:
        """(values, depth) of ``node`` expanded, from its children's (already known)."""
        if isinstance(node, yaml.ScalarNode):
            return 1, 1
        kids = (
            node.value
            if isinstance(node, yaml.SequenceNode)
            else [n for kv in node.value for n in kv]
        )
        known = [self._stats.get(id(k), (1, 1)) for k in kids]
        return 1 + sum(v for v, _ in known), 1 + max((d for _, d in known), default=0)


if _EventParser is not None:

    class LineLoader(_CappedComposer, _EventParser, SafeConstructor, Resolver):
        """A safe loader used only to compose nodes (marks give the lines), libyaml events."""

        def __init__(self, stream: str):
            _EventParser.__init__(self, stream)
            _CappedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:

    class LineLoader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        _CappedComposer,
        SafeConstructor,
        Resolver,
    ):
        """A safe loader used only to compose nodes (marks give the lines), pure Python."""

        def __init__(self, stream: str):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            _CappedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


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

    def message(self, source: str) -> str:
        """``SOURCE:LINE: path: expected ..., got ...``, the form of every file error."""
        return f"{source}:{self.line}: {self.path}: expected {self.expected}, got {self.got}"


def read_yaml(text: str) -> tuple[YNode | None, list[Problem]]:
    """Parse ``text`` into a :class:`YNode` tree; return it and the problems found.

    A syntax error, or a breach of the size, alias or depth caps, gives
    ``(None, [problem])``. Unknown tags and duplicate keys are problems; the
    rest of the tree is still returned so validation can go on.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        return None, [Problem(1, "(file)", f"at most {MAX_BYTES} bytes of YAML", f"{size}")]
    loader = LineLoader(text)
    try:
        root = loader.get_single_node()
    except _Limit as e:
        return None, [Problem(e.line, "(file)", e.expected, e.got)]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        problem = (e.problem or str(e)).strip()
        if "maximum nesting depth" in problem:  # PyYAML >= 6.0.4's libyaml stops it first
            return None, [
                Problem(line, "(file)", f"at most {MAX_DEPTH} levels of nesting", problem)
            ]
        return None, [Problem(line, "(file)", "valid YAML", problem)]
    except yaml.YAMLError as e:
        return None, [Problem(1, "(file)", "valid YAML", str(e).splitlines()[0])]
    finally:
        loader.dispose()
    if root is None:
        return YNode({}, 1), []
    problems: list[Problem] = []
    return _convert(root, "", problems, LineLoader("")), problems


def file_size_problem(path: Any) -> Problem | None:
    """A problem when the file at ``path`` is larger than :data:`MAX_BYTES` (checked
    before reading it, so a huge file is never read into memory)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return None  # missing or unreadable: the caller's read reports it
    if size <= MAX_BYTES:
        return None
    return Problem(1, "(file)", f"at most {MAX_BYTES} bytes of YAML", f"{size}")


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
