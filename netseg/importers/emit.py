"""Writing an imported document as the topology format: YAML with a provenance comment on each
entity's line, or JSON with a ``source`` string per entity.

Keys are written in the order the format declares them (``netseg/topology/spec.py``), lists in
the order the importer sorted them, so the same inputs give byte-identical output. Small
entities are written on one line in flow style, as the worked examples are, so a 50,000-VM
estate stays a file a person can page through.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from netseg.importers.base import ENTITY_LISTS, Document
from netseg.topology.spec import TOPOLOGY, Choice, ListOf, MapOf, OneOrList, Record, Type

__all__ = ["to_json", "to_yaml"]

_FLOW_WIDTH = 110
# Plain (unquoted) only what YAML reads back as the same string in block and flow context.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*(?::[A-Za-z0-9_.\-/]+)*")
_YAML11_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}
_PRIVATE = "_"


def _record_of(t: Type | None) -> Record | None:
    if isinstance(t, Record):
        return t
    if isinstance(t, ListOf | OneOrList | MapOf):
        return _record_of(t.item)
    if isinstance(t, Choice):
        for _, option in t.alternatives:
            found = _record_of(option)
            if found is not None:
                return found
    return None


def _ordered(entity: dict[str, Any], record: Record | None) -> list[tuple[str, Any]]:
    """The entity's written keys in the format's declared order (unknown keys last, sorted)."""
    keys = [k for k in entity if not k.startswith(_PRIVATE) and entity[k] is not None]
    if record is None:
        return [(k, entity[k]) for k in sorted(keys)]
    order = {k: i for i, k in enumerate(record.fields)}
    order["source"] = order.get("name", -1)  # provenance right after the name it explains
    keys.sort(key=lambda k: (order.get(k, len(order)), k))
    return [(k, entity[k]) for k in keys]


def _child(record: Record | None, key: str) -> Record | None:
    if record is None:
        return None
    spec = record.fields.get(key)
    return _record_of(spec.type) if spec is not None else None


# --- JSON --------------------------------------------------------------------------------------


def _json_value(value: Any, record: Record | None) -> Any:
    if isinstance(value, dict):
        return {k: _json_value(v, _child(record, k)) for k, v in _ordered(value, record)}
    if isinstance(value, list | tuple):
        return [_json_value(v, record) for v in value]
    return value


def to_json(document: Document) -> str:
    """The document as indented JSON, ``source`` kept on each entity."""
    body = _json_value(_top(document), TOPOLOGY)
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def _top(document: Document) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: document[k] for k in ("netseg", "name", "description", "zones") if k in document
    }
    for key in ENTITY_LISTS:
        if key in document or key == "hosts":
            out[key] = document.get(key, [])
    return out


# --- YAML --------------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML11_WORDS:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    # JSON leaves these raw; YAML reads them as line breaks
    return quoted.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\N")


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list | tuple)


def _flow(value: Any, record: Record | None) -> str | None:
    """One-line flow form of a mapping or list of scalars (and of small nested mappings)."""
    if _is_scalar(value):
        return _scalar(value)
    if isinstance(value, list | tuple):
        if all(_is_scalar(v) for v in value):
            return "[" + ", ".join(_scalar(v) for v in value) + "]"
        if all(isinstance(v, list | tuple) and all(_is_scalar(x) for x in v) for v in value):
            return "[" + ", ".join(_flow(v, None) or "" for v in value) + "]"
        return None
    parts = []
    for key, item in _ordered(value, record):
        if key == "source":
            continue
        if isinstance(item, dict):
            inner = _flow(item, _child(record, key))
            if inner is None:
                return None
            parts.append(f"{key}: {inner}")
        elif isinstance(item, list | tuple) and not all(_is_scalar(v) for v in item):
            return None
        else:
            parts.append(f"{key}: {_flow(item, None)}")
    return "{" + ", ".join(parts) + "}"


def _comment(entity: Any) -> str:
    if isinstance(entity, dict) and entity.get("source"):
        text = " ".join(str(entity["source"]).split())
        return f"  # {text}"
    return ""


def _write_mapping(
    entity: dict[str, Any], record: Record | None, indent: int, out: list[str], first: str
) -> None:
    """A block mapping whose first line starts with ``first`` (``- `` in a list)."""
    pad = " " * indent
    lead = first
    comment = _comment(entity)
    items = [(k, v) for k, v in _ordered(entity, record) if k != "source"]
    if not items:
        out.append(f"{pad}{lead}{{}}{comment}")
        return
    for key, value in items:
        child = _child(record, key)
        prefix = f"{pad}{lead}{key}:"
        lead = " " * len(first)
        inline = _flow(value, child) if not isinstance(value, list | tuple) or not value else None
        if isinstance(value, list | tuple) and value and all(_is_scalar(v) for v in value):
            inline = _flow(value, child)
        if inline is not None and (
            not isinstance(value, dict) or len(prefix) + len(inline) <= _FLOW_WIDTH
        ):
            out.append(f"{prefix} {inline}{comment}")
        elif isinstance(value, dict):
            out.append(f"{prefix}{comment}")
            _write_mapping(value, child, indent + len(first) + 2, out, "")
        else:
            out.append(f"{prefix}{comment}")
            _write_list(value, child, indent + len(first) + 2, out)
        comment = ""


def _write_list(items: Any, record: Record | None, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict):
            flow = _flow(item, record)
            if flow is not None and indent + 2 + len(flow) <= _FLOW_WIDTH:
                out.append(f"{pad}- {flow}{_comment(item)}")
            else:
                _write_mapping(item, record, indent, out, "- ")
        else:
            out.append(f"{pad}- {_flow(item, None)}")


def to_yaml(document: Document, header: str = "") -> str:
    """The document as YAML, each entity's provenance a comment on its first line."""
    out: list[str] = []
    out.extend(f"# {line}".rstrip() for line in header.splitlines())
    top = _top(document)
    for key in ("netseg", "name", "description"):
        if key in top:
            out.append(f"{key}: {_scalar(top[key])}")
    zones = top.get("zones")
    if zones:
        out.append("")
        out.append("zones:")
        zone_record = _child(TOPOLOGY, "zones")
        for name, body in zones.items():
            out.append(f"  {_scalar(name)}: {_flow(body or {}, zone_record)}")
    for key in ENTITY_LISTS:
        if key not in top:
            continue
        out.append("")
        items = top[key]
        if not items:
            out.append(f"{key}: []")
            continue
        out.append(f"{key}:")
        _write_list(items, _child(TOPOLOGY, key), 2, out)
    return "\n".join(out) + "\n"
