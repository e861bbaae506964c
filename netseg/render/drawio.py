"""Graphviz's own layout (``dot -Tjson``) -> an uncompressed diagrams.net (draw.io) file.

The drawing is the one :mod:`netseg.render.dot` describes, at the coordinates Graphviz
computed, so a reviewer opens in draw.io the picture the SVG shows and can move things and
annotate:

- every Graphviz cluster becomes a container (``container=1``): hosts, the zones inside them
  and the privileged domain's box; nodes sit in their innermost cluster, with coordinates
  relative to it as mxGraph wants;
- a virtual switch table becomes a container of one cell per table cell (its header, each port
  group or VLAN row), and an edge that ends on a row in the DOT (``headport``) ends on that
  row's cell here;
- every shape is an ``<object>`` carrying ``netseg_ref`` (the entity reference: ``guest:web01``,
  ``management:esx01/vmk0``, ``host:esx01``) and ``netseg_kind``; edges carry ``netseg_from`` and
  ``netseg_to``; a finding edge carries ``netseg_finding="1"`` and its label;
- styles: the privileged domain's interfaces orange with a red border, finding edges red and
  dashed with an arrow, fills as in the Graphviz drawing.

Pure: the same layout gives byte-identical XML (no timestamps; ids follow Graphviz's order).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from xml.sax.saxutils import quoteattr

from netseg.render.layout import (
    Cell,
    Point,
    bbox,
    cluster_nesting,
    kind_and_ref,
    number,
    table_cells,
    text_lines,
    text_ops,
)

_SHAPES = {
    "octagon": "shape=hexagon;perimeter=hexagonPerimeter2;size=0.12;",
    "cds": "shape=step;perimeter=stepPerimeter;size=0.15;",
    "box3d": "shape=cube;size=6;",
    "component": "shape=component;",
}


def _html_label(lines: Sequence[str]) -> str:
    return "<br>".join(escape(line, quote=False) for line in lines if line)


class _Writer:
    def __init__(self, layout: Mapping[str, Any]) -> None:
        self.layout = layout
        self.height = bbox(layout["bb"])[3]
        self.objects: list[Mapping[str, Any]] = list(layout.get("objects", []))
        self.nsub = int(layout.get("_subgraph_cnt", 0))
        self.out: list[str] = []
        self.abs_origin: dict[str, Point] = {"1": (0.0, 0.0)}
        self.port_cells: dict[int, list[tuple[str, Cell]]] = {}

    # Graphviz's y axis points up, mxGraph's down
    def top_left(self, x1: float, y2: float) -> Point:
        return x1, self.height - y2

    def _object(
        self,
        cid: str,
        label: str,
        data: Mapping[str, str],
        cell: str,
        geometry: str,
    ) -> None:
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in data.items())
        self.out.append(
            f"        <object id={quoteattr(cid)} label={quoteattr(label)}{attrs}>\n"
            f"          <mxCell {cell}>\n            {geometry}\n          </mxCell>\n"
            "        </object>"
        )

    def _vertex(
        self,
        cid: str,
        parent: str,
        rect: tuple[float, float, float, float],
        label: str,
        style: str,
        data: Mapping[str, str],
    ) -> None:
        x, y = self.top_left(rect[0], rect[3])
        px, py = self.abs_origin[parent]
        self.abs_origin[cid] = (x, y)
        w, h = rect[2] - rect[0], rect[3] - rect[1]
        self._object(
            cid,
            label,
            data,
            f'style={quoteattr(style)} vertex="1" parent={quoteattr(parent)}',
            f'<mxGeometry x="{x - px:.2f}" y="{y - py:.2f}" width="{w:.2f}" height="{h:.2f}" '
            'as="geometry" />',
        )

    # -- clusters --------------------------------------------------------------------------
    def clusters(self) -> dict[int, str]:
        """Container cells for the clusters, outer before inner; -> node gvid -> parent id."""
        parent_of_node: dict[int, str] = {}
        for i, box, enclosing in cluster_nesting(self.objects, self.nsub):
            o = self.objects[i]
            parent = "1" if enclosing is None else f"c{enclosing}"
            kind, ref = kind_and_ref(str(o["name"]))
            lines = text_lines(text_ops(o.get("_ldraw_")))
            fill = (
                str(o.get("fillcolor", "none")) if "filled" in str(o.get("style", "")) else "none"
            )
            style = (
                "rounded=1;arcSize=4;whiteSpace=wrap;html=1;container=1;collapsible=0;"
                "verticalAlign=top;align=left;spacingLeft=6;fontColor=#000000;fontFamily=Helvetica;"
                f"fillColor={fill};strokeColor={o.get('color', '#000000')};"
                f"strokeWidth={o.get('penwidth', '1')};"
                + ("fontStyle=1;" if kind == "host" else "")
            )
            data = {"netseg_kind": kind, "netseg_ref": ref, "tooltip": ref}
            self._vertex(f"c{i}", parent, box, _html_label(lines), style, data)
            for n in o.get("nodes", []):
                parent_of_node[int(n)] = f"c{i}"  # outer first, so the innermost wins
        return parent_of_node

    # -- nodes -----------------------------------------------------------------------------
    def nodes(self, parent_of: Mapping[int, str]) -> None:
        for o in self.objects[self.nsub :]:
            gvid = int(o["_gvid"])
            kind, ref = kind_and_ref(str(o["name"]))
            cx, cy = (float(v) for v in str(o["pos"]).split(","))
            w, h = number(o.get("width")) * 72, number(o.get("height")) * 72
            rect = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            parent = parent_of.get(gvid, "1")
            data = {"netseg_kind": kind, "netseg_ref": ref, "tooltip": ref}
            cid = f"n{gvid}"
            if o.get("shape") == "plain":
                self._table(cid, parent, rect, o, data)
                continue
            style = str(o.get("style", ""))
            fill = str(o.get("fillcolor", "#ffffff")) if "filled" in style else "#ffffff"
            css = (
                _SHAPES.get(str(o.get("shape")), "")
                + "whiteSpace=wrap;html=1;fontFamily=Helvetica;fontSize=10;fontColor=#000000;"
                + f"fillColor={fill};strokeColor={o.get('color', '#000000')};"
                + f"strokeWidth={o.get('penwidth', '1')};"
                + ("rounded=1;" if "rounded" in style else "")
                + ("dashed=1;" if "dashed" in style else "")
            )
            self._vertex(
                cid, parent, rect, _html_label(text_lines(text_ops(o.get("_ldraw_")))), css, data
            )

    def _table(
        self,
        cid: str,
        parent: str,
        rect: tuple[float, float, float, float],
        o: Mapping[str, Any],
        data: Mapping[str, str],
    ) -> None:
        """A table label: a container without border, one child per cell."""
        self._vertex(
            cid,
            parent,
            rect,
            "",
            "html=1;container=1;collapsible=0;fillColor=none;strokeColor=none;",
            data,
        )
        cells = table_cells(o.get("_ldraw_", []))
        mine: list[tuple[str, Cell]] = []
        for k, c in enumerate(cells):
            sub = f"{cid}.{k}"
            style = (
                "html=1;whiteSpace=wrap;fontFamily=Helvetica;fontSize=10;fontColor=#000000;"
                f"fillColor={(c.fill or 'none')[:7]};strokeColor=#000000;"
            )
            self._vertex(
                sub,
                cid,
                c.rect,
                _html_label(text_lines(c.texts)),
                style,
                {"netseg_kind": "cell", "netseg_ref": data["netseg_ref"]},
            )
            mine.append((sub, c))
        self.port_cells[int(o["_gvid"])] = mine

    # -- edges -----------------------------------------------------------------------------
    def _end_cell(self, gvid: int, point: Point) -> str:
        """The table cell an edge ends on (the row its port names), else the node."""
        x, y = point
        for sub, c in self.port_cells.get(gvid, []):
            x1, y1, x2, y2 = c.rect
            if x1 - 1.5 <= x <= x2 + 1.5 and y1 - 0.5 <= y <= y2 + 0.5:
                return sub
        return f"n{gvid}"

    def edges(self) -> None:
        names = {int(o["_gvid"]): str(o["name"]) for o in self.objects[self.nsub :]}
        for e in self.layout.get("edges", []):
            pts: list[Point] = []
            for op in e.get("_draw_", []):
                if op.get("op") == "b":
                    pts.extend((float(x), float(y)) for x, y in op["points"])
            tail, head = int(e["tail"]), int(e["head"])
            source = self._end_cell(tail, pts[0]) if pts else f"n{tail}"
            target = self._end_cell(head, pts[-1]) if pts else f"n{head}"
            finding = "finding" in str(e.get("class", ""))
            label_ops = (
                (e.get("_ldraw_") or []) + (e.get("_tldraw_") or []) + (e.get("_hldraw_") or [])
            )
            label_texts = text_ops(label_ops)
            label = _html_label(text_lines(label_texts))
            style = (
                "html=1;rounded=0;curved=1;edgeStyle=none;fontFamily=Helvetica;fontSize=9;"
                f"strokeColor={e.get('color', '#555555')};strokeWidth={e.get('penwidth', '1')};"
                + (
                    "dashed=1;endArrow=block;fontColor=#d62728;"
                    if finding
                    else "endArrow=none;fontColor=#000000;"
                )
                + ("labelBackgroundColor=#ffffff;")
            )
            flipped = [(x, self.height - y) for x, y in pts]
            geometry = self._edge_geometry(flipped, label_texts)
            data = {
                "netseg_kind": "finding" if finding else "link",
                "netseg_from": kind_and_ref(names[tail])[1],
                "netseg_to": kind_and_ref(names[head])[1],
            }
            if finding:
                data["netseg_finding"] = "1"
            self._object(
                f"e{e['_gvid']}",
                label,
                data,
                f'style={quoteattr(style)} edge="1" parent="1" source={quoteattr(source)} '
                f"target={quoteattr(target)}",
                geometry,
            )

    def _edge_geometry(
        self, pts: Sequence[Point], label_texts: Sequence[tuple[float, float, str]]
    ) -> str:
        inner = "".join(f'<mxPoint x="{x:.2f}" y="{y:.2f}" />' for x, y in pts[1:-1])
        parts = [f'<Array as="points">{inner}</Array>'] if inner else []
        attrs = ""
        if label_texts and len(pts) >= 2:
            lx = sum(t[0] for t in label_texts) / len(label_texts)
            ly = self.height - sum(t[1] for t in label_texts) / len(label_texts)
            # the label's place as mxGraph says it: a fraction along the edge (-1 source,
            # 1 target) and an offset from that point
            lengths = [0.0]
            for a, b in itertools.pairwise(pts):
                lengths.append(lengths[-1] + ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5)
            k = min(range(len(pts)), key=lambda i: (pts[i][0] - lx) ** 2 + (pts[i][1] - ly) ** 2)
            frac = lengths[k] / lengths[-1] if lengths[-1] else 0.5
            attrs = f' x="{2 * frac - 1:.3f}"'
            parts.append(
                f'<mxPoint x="{lx - pts[k][0]:.2f}" y="{ly - pts[k][1]:.2f}" as="offset" />'
            )
        return f'<mxGeometry relative="1"{attrs} as="geometry">' + "".join(parts) + "</mxGeometry>"

    def write(self) -> str:
        parent_of = self.clusters()
        self.nodes(parent_of)
        self.edges()
        title = text_lines(text_ops(self.layout.get("_ldraw_")))
        x1, y1, x2, y2 = bbox(self.layout["bb"])
        name = title[0] if title else str(self.layout.get("name", "netseg"))
        head = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<mxfile host="netseg" type="device" compressed="false">',
            f'  <diagram id="netseg" name={quoteattr(name)}>',
            f'    <mxGraphModel dx="{x2 - x1:.0f}" dy="{y2 - y1:.0f}" grid="0" gridSize="10" '
            'guides="1" tooltips="1" connect="1" arrows="1" fold="1" page="0" pageScale="1" '
            'math="0" shadow="0">',
            "      <root>",
            '        <mxCell id="0" />',
            '        <mxCell id="1" parent="0" />',
        ]
        tail = ["      </root>", "    </mxGraphModel>", "  </diagram>", "</mxfile>", ""]
        return "\n".join(head + self.out + tail)


def render_drawio(layout: Mapping[str, Any]) -> str:
    """The draw.io XML of a Graphviz layout (the parsed ``dot -Tjson`` output of netseg's
    DOT)."""
    return _Writer(layout).write()


__all__ = ["render_drawio"]
