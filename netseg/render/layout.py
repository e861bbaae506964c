"""Reading Graphviz's layout output (``dot -Tjson``) for the exports built on it (draw.io,
Mermaid): the entity an object name stands for, the lines of text a label draws, and the
cells of an HTML-like table label with their fills and texts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

Point = tuple[float, float]


@dataclass
class Cell:
    rect: tuple[float, float, float, float]  # x1, y1, x2, y2 in Graphviz coordinates
    fill: str | None
    texts: list[tuple[float, float, str]] = field(default_factory=list)


def number(value: object, default: float = 0.0) -> float:
    try:
        return float(str(value))
    except ValueError:
        return default


def bbox(value: object) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in str(value).split(","))
    return x1, y1, x2, y2


def cluster_nesting(
    objects: Sequence[Mapping[str, Any]], nsub: int
) -> list[tuple[int, tuple[float, float, float, float], int | None]]:
    """The clusters of ``dot -Tjson``'s layout (the legend aside): index, box and the index
    of the innermost cluster enclosing it (None at the top), outer clusters first."""
    boxes: list[tuple[int, tuple[float, float, float, float]]] = []
    for i in range(nsub):
        o = objects[i]
        name = str(o.get("name", ""))
        if name.startswith("cluster") and name != "cluster_legend" and "bb" in o:
            boxes.append((i, bbox(o["bb"])))

    def area(b: tuple[float, float, float, float]) -> float:
        return (b[2] - b[0]) * (b[3] - b[1])

    def within(
        inner: tuple[float, float, float, float], outer: tuple[float, float, float, float]
    ) -> bool:
        return (
            outer[0] <= inner[0]
            and outer[1] <= inner[1]
            and inner[2] <= outer[2]
            and inner[3] <= outer[3]
        )

    boxes.sort(key=lambda ib: (-area(ib[1]), ib[0]))
    out: list[tuple[int, tuple[float, float, float, float], int | None]] = []
    for i, box in boxes:
        enclosing = [j for j, b in boxes if j != i and area(b) > area(box) and within(box, b)]
        out.append((i, box, enclosing[-1] if enclosing else None))
    return out


def kind_and_ref(name: str) -> tuple[str, str]:
    """The entity a Graphviz object name (percent-encoded reference) stands for.

    Clusters are ``cluster_host:NAME``, ``cluster_zone:HOST/ZONE`` and
    ``cluster_management:HOST``; nodes are entity references (``guest:NAME``,
    ``vswitch:HOST/NAME``, ``collapsed:…``) or ``legend``."""
    ref = unquote(name)
    if ref.startswith("cluster_management:"):
        return "privileged-domain", ref[len("cluster_") :]
    if ref.startswith("cluster_"):
        ref = ref[len("cluster_") :]
    kind = ref.split(":", 1)[0] if ":" in ref else ref
    return kind, ref


def text_lines(texts: Sequence[tuple[float, float, str]]) -> list[str]:
    """Text operations grouped into lines, top to bottom, each line's pieces left to right."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, t in texts:
        rows.setdefault(round(y), []).append((x, t))
    return [
        "".join(t for _, t in sorted(parts)).strip()
        for _, parts in sorted(rows.items(), reverse=True)
    ]


def text_ops(ops: Sequence[Mapping[str, Any]] | None) -> list[tuple[float, float, str]]:
    return [
        (float(op["pt"][0]), float(op["pt"][1]), str(op["text"]))
        for op in ops or ()
        if op.get("op") == "T"
    ]


def table_cells(ops: Sequence[Mapping[str, Any]]) -> list[Cell]:
    """The cells an HTML-like table label draws: each outlined polygon (``p``), with the fill
    of a filled polygon (``P``) of the same points drawn just before it, and its texts."""
    cells: list[Cell] = []
    fills: dict[tuple[tuple[float, float], ...], str] = {}
    colour = None
    for op in ops:
        kind = op.get("op")
        if kind == "C":
            colour = str(op["color"])
        elif kind in ("P", "p"):
            pts = tuple((float(x), float(y)) for x, y in op["points"])
            if kind == "P" and colour is not None:
                fills[pts] = colour
                continue
            xs = [p[0] for p in pts]
            ys = [p[1] for p in pts]
            cells.append(Cell((min(xs), min(ys), max(xs), max(ys)), fills.get(pts)))
    for x, y, t in text_ops(ops):
        inside = [c for c in cells if c.rect[0] <= x <= c.rect[2] and c.rect[1] <= y <= c.rect[3]]
        if inside:
            min(
                inside, key=lambda c: (c.rect[2] - c.rect[0]) * (c.rect[3] - c.rect[1])
            ).texts.append((x, y, t))
    return cells


__all__ = [
    "Cell",
    "Point",
    "bbox",
    "cluster_nesting",
    "kind_and_ref",
    "number",
    "table_cells",
    "text_lines",
    "text_ops",
]
