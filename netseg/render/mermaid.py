"""Graphviz's layout (``dot -Tjson``) -> a Mermaid flowchart for Markdown documentation.

Mermaid lays its drawings out itself, so only the structure is taken from the Graphviz
drawing, not the coordinates: one ``subgraph`` per host, per zone inside it and per privileged
domain's box; a virtual switch table as a subgraph with one node per port group or VLAN row
(edges that end on a row in the DOT end on that row's node); the privileged domain's
interfaces, guests, NICs, switches, routers and endpoints as nodes with their labels; links
with their labels; finding edges dotted, red and with an arrow, labelled with the services.
Each node's id is derived from Graphviz's order, and a ``%% ref`` comment before it names the
entity reference, so a reader of the Markdown source can find an entity.

Pure: the same layout gives byte-identical text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from netseg.render.layout import (
    cluster_nesting,
    kind_and_ref,
    table_cells,
    text_lines,
    text_ops,
)

_RED = "#d62728"
_SAFE = str.maketrans({c: f"#{ord(c)};" for c in '"<>&#`|[]{}()'})


def _label(lines: list[str]) -> str:
    """A quoted Mermaid label: lines joined with ``<br/>``, characters Mermaid's parser or
    HTML would take as syntax written as Mermaid's ``#NN;`` entity codes."""
    return '"' + "<br/>".join(line.translate(_SAFE) for line in lines if line) + '"'


class _Writer:
    def __init__(self, layout: Mapping[str, Any]) -> None:
        self.layout = layout
        self.objects: list[Mapping[str, Any]] = list(layout.get("objects", []))
        self.nsub = int(layout.get("_subgraph_cnt", 0))
        self.rows: dict[int, list[tuple[str, tuple[float, float]]]] = {}
        self.styles: list[str] = []

    def _clusters(self) -> tuple[dict[str, list[int]], dict[int, str], dict[int, str]]:
        """cluster children (by parent id), each node's innermost cluster, cluster titles."""
        children: dict[str, list[int]] = {}
        node_parent: dict[int, str] = {}
        for i, _box, enclosing in cluster_nesting(self.objects, self.nsub):
            children.setdefault("root" if enclosing is None else f"c{enclosing}", []).append(i)
            for n in self.objects[i].get("nodes", []):
                node_parent[int(n)] = f"c{i}"
        return children, node_parent, {}

    def _node(self, o: Mapping[str, Any], depth: int) -> list[str]:
        pad = "  " * depth
        gvid = int(o["_gvid"])
        kind, ref = kind_and_ref(str(o["name"]))
        out = [f"{pad}%% {ref}"]
        if o.get("shape") == "plain":
            cells = table_cells(o.get("_ldraw_", []))
            # one node per table row: the cells at the same height, left to right
            rows: dict[tuple[float, float], list[str]] = {}
            fills: dict[tuple[float, float], str] = {}
            for c in cells:
                key = (c.rect[1], c.rect[3])
                text = " ".join(text_lines(c.texts))
                rows.setdefault(key, []).append(text)
                if c.fill and key not in fills:
                    fills[key] = c.fill[:7]
            ordered = sorted(rows, key=lambda k: -k[0])
            if not ordered:
                return out
            head = ordered[0]
            out.append(f"{pad}subgraph n{gvid}[{_label([' '.join(rows[head])])}]")
            out.append(f"{pad}  direction TB")
            mine = []
            for k, key in enumerate(ordered[1:]):
                rid = f"n{gvid}_{k}"
                out.append(f"{pad}  {rid}[{_label([' · '.join(t for t in rows[key] if t)])}]")
                if key in fills:
                    self.styles.append(f"style {rid} fill:{fills[key]}")
                mine.append((rid, key))
            out.append(f"{pad}end")
            self.rows[gvid] = mine
            return out
        lines = text_lines(text_ops(o.get("_ldraw_")))
        shape = {
            "octagon": ("{{", "}}"),
            "cds": (">", "]"),
            "box3d": ("[[", "]]"),
            "component": ("[/", "/]"),
        }.get(str(o.get("shape")), ("(", ")") if "rounded" in str(o.get("style")) else ("[", "]"))
        out.append(f"{pad}n{gvid}{shape[0]}{_label(lines)}{shape[1]}")
        if "filled" in str(o.get("style", "")) and o.get("fillcolor"):
            line = f"style n{gvid} fill:{str(o['fillcolor'])[:7]}"
            if kind == "management":
                line += ",stroke:#c0392b,stroke-width:2px"
            self.styles.append(line)
        return out

    def _end(self, gvid: int, point: tuple[float, float] | None) -> str:
        if point is not None:
            for rid, (y1, y2) in self.rows.get(gvid, []):
                if y1 - 0.5 <= point[1] <= y2 + 0.5:
                    return rid
        rows = self.rows.get(gvid)
        return rows[0][0] if rows else f"n{gvid}"

    def write(self) -> str:
        children, node_parent, _ = self._clusters()
        by_parent: dict[str, list[Mapping[str, Any]]] = {}
        for o in self.objects[self.nsub :]:
            by_parent.setdefault(node_parent.get(int(o["_gvid"]), "root"), []).append(o)
        title = text_lines(text_ops(self.layout.get("_ldraw_")))
        out = [
            "---",
            # a YAML double-quoted scalar (JSON's string syntax is one): a title holding ": "
            # (the overview's) or a quote is not YAML syntax
            "title: " + json.dumps((title[0] if title else "netseg").translate(_SAFE)),
            "---",
            "flowchart LR",
        ]

        def emit(parent: str, depth: int) -> None:
            for i in children.get(parent, []):
                o = self.objects[i]
                ref = kind_and_ref(str(o["name"]))[1]
                lines = text_lines(text_ops(o.get("_ldraw_")))
                out.append("  " * depth + f"%% {ref}")
                out.append("  " * depth + f"subgraph c{i}[{_label(lines)}]")
                emit(f"c{i}", depth + 1)
                out.append("  " * depth + "end")
                fill = o.get("fillcolor") if "filled" in str(o.get("style", "")) else "#ffffff"
                self.styles.append(f"style c{i} fill:{fill},stroke:{o.get('color', '#333333')}")
            for o in by_parent.get(parent, []):
                out.extend(self._node(o, depth))

        emit("root", 1)
        links: list[str] = []
        for n, e in enumerate(self.layout.get("edges", [])):
            pts = [
                (float(x), float(y))
                for op in e.get("_draw_", [])
                if op.get("op") == "b"
                for x, y in op["points"]
            ]
            a = self._end(int(e["tail"]), pts[0] if pts else None)
            b = self._end(int(e["head"]), pts[-1] if pts else None)
            ops = (e.get("_ldraw_") or []) + (e.get("_tldraw_") or []) + (e.get("_hldraw_") or [])
            text = " ".join(text_lines(text_ops(ops)))
            finding = "finding" in str(e.get("class", ""))
            arrow = "-.->" if finding else "---"
            label = f"|{_label([text])}|" if text else ""
            links.append(f"  {a} {arrow}{label} {b}")
            if finding:
                self.styles.append(f"linkStyle {n} stroke:{_RED},stroke-width:2px,color:{_RED}")
        out.extend(links)
        out.extend("  " + s for s in self.styles)
        return "\n".join(out) + "\n"


def render_mermaid(layout: Mapping[str, Any]) -> str:
    """The Mermaid flowchart of a Graphviz layout (the parsed ``dot -Tjson`` output of
    netseg's DOT)."""
    return _Writer(layout).write()


__all__ = ["render_mermaid"]
