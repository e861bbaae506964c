"""The building blocks of netseg's DOT, shared by the detail drawing (:mod:`netseg.render.dot`)
and the estate overview (:mod:`netseg.render.overview`): escaping user-supplied names into
identifiers and HTML-like labels, attribute lists, the colours and font, and what a
highlighted finding says and stands for."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from netseg.rules.finding import Finding

HIGHLIGHT_RULES = ("guest-reaches-management", "guest-can-tag-management-vlan")
MANAGEMENT_FILL = "#ffb366"
MANAGEMENT_BORDER = "#c0392b"
FINDING_RED = "#d62728"
FONT = "Helvetica"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- escaping ------------------------------------------------------------------------------


def node_id(ref: str) -> str:
    """A quoted DOT identifier for an entity reference.

    Percent-encoding keeps it readable for ordinary names and free of the characters DOT
    treats specially in quoted strings (a trailing backslash would swallow the closing quote).
    """
    return '"' + quote(ref, safe=":/._-+@,()") + '"'


def text(value: object) -> str:
    """Text for an HTML-like label: entities escaped, control characters (which the label
    parser rejects) replaced."""
    return html.escape(_CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(value)), quote=True)


def attrs(**kw: str | None) -> str:
    """``[k=v, …]`` in the given order; values starting with ``<`` are HTML labels, others
    are quoted (callers only pass values without quotes or backslashes)."""
    parts = []
    for k, v in kw.items():
        if v is None:
            continue
        if v.startswith("<"):
            parts.append(f"{k}={v}")
        else:
            parts.append(f'{k}="{v}"')
    return "[" + ", ".join(parts) + "]"


def finding_edge(tooltip: str) -> str:
    """The attributes of a violation's edge: red, dashed, no label (its statement sits in a
    node, where it overlaps nothing; SVG shows it as the tooltip), never moving the layout."""
    return attrs(
        tooltip=tooltip,
        color=FINDING_RED,
        style="dashed",
        penwidth="2",
        arrowhead="normal",
        constraint="false",
        **{"class": "finding"},
    )


def html_label(inner: str) -> str:
    return "<" + inner + ">"


# --- findings ------------------------------------------------------------------------------


def services_label(evidence: Mapping[str, Any]) -> str:
    """The violating services, short: everything but a few allowed ones reads as
    ``any except tcp/443`` rather than the six-item complement."""
    services = [str(s) for s in evidence.get("services", [])] or ["any"]
    allowed = [str(s) for s in evidence.get("allowed", [])]
    if evidence.get("reachable") == ["any"] and allowed and len(allowed) < len(services):
        return "any except " + ", ".join(allowed)
    return ", ".join(services)


def member_sets(f: Finding) -> tuple[list[str], list[str]]:
    """The guest NICs and management interfaces a highlighted finding stands for: its
    subject and object; for a finding made per (source class, destination class), every
    member of each: from ``Finding.identity`` and ``Finding.classes`` where the finding has
    them, else from ``evidence["members"] = {"subjects": [...], "objects": [...]}``."""
    identity = tuple(getattr(f, "identity", ()) or ())
    classes: Mapping[str, Sequence[str]] = getattr(f, "classes", None) or {}
    members = f.evidence.get("members")
    subjects: list[str] = []
    objects: list[str] = []
    if identity and classes:
        subjects = [str(m) for m in classes.get(identity[0], ())]
        objects = [str(m) for m in classes.get(identity[1], ())] if len(identity) > 1 else []
    elif isinstance(members, Mapping):
        subjects = [str(m) for m in members.get("subjects", ())]
        objects = [str(m) for m in members.get("objects", ())]
    subjects = subjects or [f.subject]
    objects = objects or ([f.object] if f.object is not None else [])
    return subjects, objects


__all__ = [
    "FINDING_RED",
    "FONT",
    "HIGHLIGHT_RULES",
    "MANAGEMENT_BORDER",
    "MANAGEMENT_FILL",
    "attrs",
    "finding_edge",
    "html_label",
    "member_sets",
    "node_id",
    "services_label",
    "text",
]
