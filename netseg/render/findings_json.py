"""Findings as JSON: the stable shape of docs/cli.md ("JSON", ``check``).

Keys are a contract: adding is fine, renaming is not. Beyond the contract, a waived finding
carries ``why`` (the waiver's reason) and the document carries ``waived`` (how many).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring as _string  # the C escaper where available
from typing import Any, AnyStr

from netseg.model.topology import Topology
from netseg.render import OUTPUT_VERSION, severity_counts
from netseg.rules.finding import Finding


def finding_to_json(f: Finding) -> dict[str, Any]:
    """One finding as a JSON-ready mapping (shared by ``check``, ``replay`` and ``diff``)."""
    out: dict[str, Any] = {
        "rule": f.rule,
        "severity": f.severity.value,
        "message": f.message,
        "subject": f.subject,
        "object": f.object,
        "location": {
            "file": f.location.file,
            "line": f.location.line,
            "column": f.location.column,
        },
        "references": list(f.references),
        "waived": f.waived,
        "evidence": dict(f.evidence),
    }
    if f.waived:
        out["why"] = f.waiver_why
    return out


def topology_to_json(topology: Topology) -> dict[str, str]:
    return {"name": topology.name, "file": topology.file}


def classes_table(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """Every class the findings name, with all its members, once (rules.md, "Grain")."""
    table: dict[str, list[str]] = {}
    for f in findings:
        for cid, members in f.classes.items():
            if cid not in table:
                table[cid] = list(members)
    return dict(sorted(table.items()))


def check_document(topology: Topology, findings: Sequence[Finding]) -> dict[str, Any]:
    return {
        "netseg": OUTPUT_VERSION,
        "topology": topology_to_json(topology),
        "summary": severity_counts(findings),
        "waived": sum(1 for f in findings if f.waived),
        "findings": [finding_to_json(f) for f in findings],
        "classes": classes_table(findings),
    }


#: Characters per chunk of streamed output (about a megabyte).
CHUNK = 1 << 20


def chunked(pieces: Iterable[AnyStr], size: int = CHUNK) -> Iterator[AnyStr]:
    """The pieces (text or bytes) joined into chunks of about ``size`` characters or bytes
    (never an empty chunk); a piece of ``size`` or more with nothing before it is passed on as
    it is, without a copy."""
    buf: list[AnyStr] = []
    n = 0
    for piece in pieces:
        if not buf and len(piece) >= size:
            yield piece
            continue
        buf.append(piece)
        n += len(piece)
        if n >= size:
            yield buf[0][:0].join(buf)
            buf.clear()
            n = 0
    if buf:
        yield buf[0][:0].join(buf)


def iter_items(
    before: Mapping[str, Any], key: str, items: Iterable[Any], after: Mapping[str, Any]
) -> Iterator[str]:
    """The indented text of ``{**before, key: list(items), **after}`` (``dumps_indented``'s),
    one item at a time, so that no step holds the whole list's text."""
    head = dumps_indented({**before, key: [0], **after})
    marker = _string(key) + ": [\n    0\n  ]"
    at = head.index(marker)
    start, end = head[: at + len(_string(key)) + 3], head[at + len(marker) - 1 :]
    sep = start + "\n    "
    for item in items:
        yield sep + dumps_indented(item).replace("\n", "\n    ")
        sep = ",\n    "
    if sep.startswith(start):
        yield start + "]" + end[1:]
    else:
        yield "\n  " + end


def iter_json(topology: Topology, findings: Sequence[Finding]) -> Iterator[str]:
    """``netseg check --format json`` in chunks: the text of :func:`render_json`, each finding
    encoded as it is written, the classes table after them."""
    before = {
        "netseg": OUTPUT_VERSION,
        "topology": topology_to_json(topology),
        "summary": severity_counts(findings),
        "waived": sum(1 for f in findings if f.waived),
    }
    after = {"classes": classes_table(findings)}
    pieces = iter_items(before, "findings", (finding_to_json(f) for f in findings), after)
    return chunked(itertools.chain(pieces, ["\n"]))


def render_json(topology: Topology, findings: Sequence[Finding]) -> str:
    """``netseg check --format json``: one document, keys in contract order, newline-ended."""
    return "".join(iter_json(topology, findings))


def dumps_indented(value: Any, indent: int = 2) -> str:
    """Exactly ``json.dumps(value, indent=indent, ensure_ascii=False, default=str)``, faster.

    With an indent, the standard library encodes in pure Python (its C encoder only writes
    compact JSON): 1.7 s for the 38,000 findings of a 50,000-guest estate. This writer keeps
    the same text but encodes strings with the C escaper, lists of strings (paths, examples)
    in one join, and works on plain recursion rather than generators.
    """
    out: list[str] = []
    _encode(value, out, "\n", " " * indent)
    return "".join(out)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _strings(items: list[Any] | tuple[Any, ...], nl: str) -> str | None:
    """The items of a list of strings (paths, examples: most lists here) joined at once, or
    None when one is not a string. The C escaper refuses anything else, so no Python-level
    test per item is needed; it encodes a ``str`` subclass as its text, as json does."""
    try:
        return ("," + nl).join(map(_string, items))
    except TypeError:
        return None


def _encode(o: Any, out: list[str], nl: str, step: str) -> None:
    # the order of the tests is the standard encoder's (a str or int subclass encodes as such)
    if isinstance(o, str):
        out.append(_string(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif isinstance(o, int):
        out.append(int.__repr__(o))
    elif isinstance(o, float):
        out.append(_float(o))
    elif isinstance(o, list | tuple):
        if not o:
            out.append("[]")
            return
        inner = nl + step
        strings = _strings(o, inner)
        if strings is not None:
            out.append("[" + inner + strings + nl + "]")
            return
        sep = "[" + inner
        for item in o:
            out.append(sep)
            sep = "," + inner
            _encode(item, out, inner, step)
        out.append(nl + "]")
    elif isinstance(o, dict):
        if not o:
            out.append("{}")
            return
        inner = nl + step
        sep = "{" + inner
        deeper = inner + step
        for k, v in o.items():
            head = sep + _string(k if type(k) is str else _key(k)) + ": "
            sep = "," + inner
            # plain scalars inline: most values are, and a call per value is the cost
            t = type(v)
            if t is str:
                out.append(head + _string(v))
            elif v is None:
                out.append(head + "null")
            elif t is bool:
                out.append(head + ("true" if v else "false"))
            elif t is int:
                out.append(head + int.__repr__(v))
            elif t is list and v and (strings := _strings(v, deeper)) is not None:
                out.append(head + "[" + deeper + strings + inner + "]")
            else:
                out.append(head)
                _encode(v, out, inner, step)
        out.append(nl + "}")
    else:
        _encode(str(o), out, nl, step)  # default=str


__all__ = [
    "check_document",
    "chunked",
    "classes_table",
    "dumps_indented",
    "finding_to_json",
    "iter_items",
    "iter_json",
    "render_json",
    "topology_to_json",
]
