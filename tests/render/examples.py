"""The worked examples every diagram test draws: each topology in ``topologies/`` and each
topology document under ``examples/`` (files with ``netseg:`` and ``name:`` at the top level;
fragments such as zone-rule files are not topologies)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_DOCUMENT = re.compile(r"^netseg:\s*\d+\s*$.*^name:", re.M | re.S)


def example_paths() -> list[Path]:
    found = sorted(
        p for p in (ROOT / "topologies").glob("*") if p.suffix in (".yaml", ".yml", ".json")
    )
    found += sorted(
        p
        for p in (ROOT / "examples").rglob("*.yaml")
        if _DOCUMENT.search(p.read_text(encoding="utf-8"))
    )
    return found


def example_name(path: Path) -> str:
    """``esxi-cluster`` for ``topologies/esxi-cluster.yaml``; ``mixed-import-imported-estate``
    for ``examples/mixed-import/imported/estate.yaml`` (unique, usable as a file name)."""
    rel = path.relative_to(ROOT)
    if rel.parts[0] == "topologies":
        return path.stem
    return "-".join(rel.with_suffix("").parts[1:])


EXAMPLES = example_paths()
