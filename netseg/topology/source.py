"""Reading a topology file into plain containers that remember where each value was written.

YAML is composed (never constructed) with libyaml's C composer when PyYAML has it, so no tag
can build an object; only the core schema's tags are accepted. Aliases are expanded with a
bound computed before expansion ("billion laughs" files are refused at once, recursive
aliases too). JSON files (``.json``) are parsed with the standard library, which is two orders
of magnitude faster for generated estates; their marks point at the enclosing object.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from netseg.errors import Problem, TopologyError

MAX_BYTES = 64 * 1024 * 1024
MIN_EXPANSION_LIMIT = 1_000_000
EXPANSION_FACTOR = 10

_Composer = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {
    _CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}
_MERGE = _CORE + "merge"


class Mark(tuple[int, int]):
    """(line, column), 1-based."""

    __slots__ = ()


class MDict(dict[Any, Any]):
    """A mapping that knows its file, its own position and each key's and value's position."""

    __slots__ = ("file", "key_marks", "mark", "value_marks")

    def __init__(self, file: str, mark: tuple[int, int]) -> None:
        super().__init__()
        self.file = file
        self.mark = mark
        self.key_marks: dict[Any, tuple[int, int]] = {}
        self.value_marks: dict[Any, tuple[int, int]] = {}

    if TYPE_CHECKING:  # values are untyped YAML data; no runtime override on the hot path

        def get(self, key: Any, default: Any = None) -> Any: ...


class MList(list[Any]):
    """A sequence that knows its file, its own position and each item's position.

    ``item_files`` is set on a list merged from several files (includes): item index -> the
    file it was written in, where that differs from ``file``.
    """

    __slots__ = ("file", "item_files", "item_marks", "mark")

    def __init__(self, file: str, mark: tuple[int, int]) -> None:
        super().__init__()
        self.file = file
        self.mark = mark
        self.item_marks: list[tuple[int, int]] = []
        self.item_files: dict[int, str] | None = None


def read_text(path: Path, display: str) -> str:
    """Read a topology file as UTF-8 text, refusing what cannot be a topology."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise TopologyError([Problem(display, 0, 0, "", "no such file")]) from None
    except OSError as exc:
        raise TopologyError([Problem(display, 0, 0, "", f"cannot read: {exc.strerror}")]) from None
    if path.is_dir():
        raise TopologyError([Problem(display, 0, 0, "", "is a directory, not a topology file")])
    if size > MAX_BYTES:
        raise TopologyError(
            [
                Problem(
                    display, 0, 0, "", f"file is {size:,} bytes; topologies over 64 MiB are refused"
                )
            ]
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TopologyError([Problem(display, 0, 0, "", f"cannot read: {exc.strerror}")]) from None
    return decode_text(data, display)


def decode_text(data: bytes, display: str) -> str:
    if len(data) > MAX_BYTES:
        raise TopologyError([Problem(display, 0, 0, "", "topologies over 64 MiB are refused")])
    if b"\x00" in data[:8192]:
        raise TopologyError(
            [Problem(display, 1, 1, "", "this is a binary file, not a YAML or JSON topology")]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise TopologyError(
            [Problem(display, line, col, "", "not UTF-8 text (a topology must be UTF-8)")]
        ) from None
    return text


def parse(text: str, display: str, json_form: bool = False) -> Any:
    """Parse YAML or JSON text into MDict/MList/scalars. Raises TopologyError."""
    if not text.strip():
        raise TopologyError([Problem(display, 1, 1, "", "the file is empty")])
    if json_form:
        return _parse_json(text, display)
    return _parse_yaml(text, display)


# --- YAML --------------------------------------------------------------------------------


def _parse_yaml(text: str, display: str) -> Any:
    try:
        loader = _Composer(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            what = f"{exc.problem} ({exc.context})"
        raise TopologyError(
            [Problem(display, line, col, "", f"YAML syntax error: {what}")]
        ) from None
    except yaml.YAMLError as exc:
        raise TopologyError([Problem(display, 1, 1, "", f"YAML error: {exc}")]) from None
    if node is None:
        raise TopologyError(
            [Problem(display, 1, 1, "", "the file is empty (it holds no YAML document)")]
        )
    _check_expansion(node, display)
    return _Converter(display).convert(node)


def _check_expansion(root: Node, display: str) -> None:
    """Refuse alias bombs and recursive aliases before expanding anything."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    distinct = 0
    # iterative post-order DFS with memoised subtree sizes
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            total = 1
            for child in _children(node):
                total += sizes[id(child)]
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            raise TopologyError(
                [Problem(display, line, col, "", "recursive YAML alias is refused")]
            )
        active.add(key)
        distinct += 1
        stack.append((node, True))
        for child in _children(node):
            ck = id(child)
            if ck in active:
                line, col = child.start_mark.line + 1, child.start_mark.column + 1
                raise TopologyError(
                    [Problem(display, line, col, "", "recursive YAML alias is refused")]
                )
            if ck not in sizes:
                stack.append((child, False))
    expanded = sizes[id(root)]
    limit = max(MIN_EXPANSION_LIMIT, EXPANSION_FACTOR * distinct)
    if expanded > limit:
        raise TopologyError(
            [
                Problem(
                    display,
                    1,
                    1,
                    "",
                    f"YAML aliases would expand {distinct:,} nodes into {expanded:,}; refused "
                    f"(limit {limit:,}: this looks like a 'billion laughs' file)",
                )
            ]
        )


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        out: list[Node] = []
        for k, v in node.value:
            out.append(k)
            out.append(v)
        return out
    return []


class _Converter:
    def __init__(self, display: str) -> None:
        self.display = display
        self.constructor = SafeConstructor()

    def _fail(self, node: Node, message: str) -> TopologyError:
        m = node.start_mark
        return TopologyError([Problem(self.display, m.line + 1, m.column + 1, "", message)])

    def convert(self, node: Node) -> Any:
        tag = node.tag
        if tag not in _ALLOWED_TAGS:
            shown = "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
            raise self._fail(
                node,
                f"YAML tag {shown!r} is not allowed (netseg never constructs objects from YAML; "
                "quote the value if it is text)",
            )
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        mark = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, SequenceNode):
            seq = MList(self.display, mark)
            for item in node.value:
                seq.append(self.convert(item))
                seq.item_marks.append((item.start_mark.line + 1, item.start_mark.column + 1))
            return seq
        assert isinstance(node, MappingNode)
        mapping = MDict(self.display, mark)
        merged: set[Any] = set()  # keys from '<<' merges; explicit keys override them
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged |= self._merge(mapping, value_node)
                continue
            key = self.convert(key_node)
            if isinstance(key, MDict | MList):
                raise self._fail(key_node, "a mapping key must be a plain value")
            kmark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in merged:
                merged.discard(key)
            elif key in mapping:
                first = mapping.key_marks[key]
                raise self._fail(
                    key_node, f"duplicate key {key!r} (first written at line {first[0]})"
                )
            mapping[key] = self.convert(value_node)
            mapping.key_marks[key] = kmark
            mapping.value_marks[key] = (
                value_node.start_mark.line + 1,
                value_node.start_mark.column + 1,
            )
        return mapping

    def _merge(self, mapping: MDict, value_node: Node) -> set[Any]:
        added: set[Any] = set()
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for src in sources:
            merged = self.convert(src)
            if not isinstance(merged, MDict):
                raise self._fail(src, "a '<<' merge key needs a mapping (or a list of mappings)")
            for k, v in merged.items():
                if k not in mapping:
                    added.add(k)
                    mapping[k] = v
                    mapping.value_marks[k] = merged.value_marks.get(k, merged.mark)
                    mapping.key_marks.setdefault(k, merged.key_marks.get(k, merged.mark))
        return added

    def _scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _CORE + "str":
            return node.value
        if tag == _CORE + "timestamp":
            return node.value  # a date is text here; nothing in the format is a timestamp
        if tag == _CORE + "int" and ":" in node.value:
            # YAML 1.1 reads 00:11:22:33:44:55 as a base-60 integer; it is a MAC
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            raise self._fail(node, f"cannot read value {node.value!r}: {exc.problem}") from None
        finally:
            self.constructor.constructed_objects.clear()


# --- JSON --------------------------------------------------------------------------------

_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}]')


def _parse_json(text: str, display: str) -> Any:
    marks = iter(_object_marks(text))

    def hook(pairs: list[tuple[str, Any]]) -> MDict:
        # Only the object's own mark: an invalid JSON file is re-read by the YAML composer for
        # exact key positions (see netseg.topology), so the fast path stays lean.
        mark = next(marks, (1, 1))
        d = MDict(display, mark)
        d.update(pairs)
        if len(d) != len(pairs):
            seen: set[str] = set()
            dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
            raise TopologyError(
                [Problem(display, mark[0], mark[1], "", f"duplicate key {dup!r} in one object")]
            )
        for k, v in pairs:
            if type(v) is list:
                d[k] = _mlist(v, display, mark)
        return d

    try:
        value = json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        raise TopologyError(
            [Problem(display, exc.lineno, exc.colno, "", f"JSON syntax error: {exc.msg}")]
        ) from None
    except RecursionError:
        raise TopologyError([Problem(display, 1, 1, "", "JSON nesting is too deep")]) from None
    if isinstance(value, list):
        value = _mlist(value, display, (1, 1))
    return value


def _object_marks(text: str) -> list[tuple[int, int]]:
    """(line, column) of every object's opening brace, in the order its closing brace comes,
    which is the order ``object_pairs_hook`` is called in."""
    opens: list[int] = []
    closes: list[int] = []
    for offset in _structural_braces(text):
        if text[offset] == "{":
            opens.append(offset)
        elif opens:
            closes.append(opens.pop())
    # one vectorised search rather than a bisection per object (there are 100,000s)
    starts = np.asarray(_line_starts(text), dtype=np.int64)
    offsets = np.asarray(closes, dtype=np.int64)
    lines = np.searchsorted(starts, offsets, side="right")
    columns = offsets - starts[lines - 1] + 1
    return list(zip(lines.tolist(), columns.tolist(), strict=True))


def _structural_braces(text: str) -> list[int]:
    """Offsets of the braces outside strings, in order.

    A large document without backslashes in ASCII (what generators and importers write) is
    scanned with numpy: a brace is outside strings when an even number of quotes precede it.
    Otherwise every string is matched by a regular expression (a second per 8 MB)."""
    if len(text) > 1 << 20 and "\\" not in text and text.isascii():
        data = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        # the parity of the quotes so far, one byte each (a running xor: a tenth of the
        # time and an eighth of the memory of counting them in 64 bits)
        inside = np.bitwise_xor.accumulate((data == ord('"')).view(np.uint8))
        braces = ((data == ord("{")) | (data == ord("}"))) & (inside == 0)
        return np.flatnonzero(braces).tolist()
    return [m.start() for m in _JSON_TOKENS.finditer(text) if m.group() in ("{", "}")]


def _mlist(items: list[Any], display: str, mark: tuple[int, int]) -> MList:
    out = MList(display, mark)
    out.extend(_mlist(i, display, mark) if type(i) is list else i for i in items)
    return out


def _line_starts(text: str) -> list[int]:
    if len(text) > 1 << 20 and text.isascii():
        # offsets of bytes are offsets of characters here
        data = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        return [0, *(np.flatnonzero(data == ord("\n")) + 1).tolist()]
    starts = [0]
    find = text.find
    i = find("\n")
    while i != -1:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts
