"""``netseg reach`` streamed: JSON Lines, CSV and JSON from the pair stream are exactly what the
pair list gives, on every worked example and on generated estates of several shapes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bench.shapes import generate_shape
from netseg.graph import analyse_reachability
from netseg.graph.reach import Reachability
from netseg.graph.stream import class_pairs, stream_pairs, to_pair
from netseg.model.topology import Topology
from netseg.render.reach import (
    iter_csv,
    iter_json,
    iter_jsonl,
    iter_summary,
    pair_to_json,
    render_csv,
)
from netseg.topology import load
from tests.conftest import REPO, example_topologies

SELECTIONS = [("guests", "management"), ("guests", "guests"), ("endpoints", "guests")]


def _cases() -> list[tuple[str, Path | tuple[str, int]]]:
    cases: list[tuple[str, Path | tuple[str, int]]] = [(p.stem, p) for p in example_topologies()]
    cases += [(f"{s}-{n}", (s, n)) for s, n in [("flat", 300), ("mixed", 300), ("chain5", 100)]]
    return cases


CASES = _cases()


def _load(case: Path | tuple[str, int], tmp_path: Path) -> Topology:
    if isinstance(case, Path):
        return load(case, display=str(case.relative_to(REPO)))
    path = tmp_path / "shape.json"
    path.write_text(json.dumps(generate_shape(*case)))
    return load(path)


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def estate(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Topology, Reachability]:
    topology = _load(request.param[1], tmp_path)
    return topology, analyse_reachability(topology)


def test_the_stream_is_the_pair_list(estate: tuple[Topology, Reachability]) -> None:
    topology, reach = estate
    for src, dst in SELECTIONS:
        sources, destinations = reach.select(src), reach.select(dst)
        expected = reach.pairs(sources, destinations)
        got = [to_pair(p) for p in stream_pairs(reach, sources, destinations)]
        assert got == expected
        assert [p.path for p in got] == [p.path for p in expected]
        # JSON Lines: one object per pair, the keys and values of the JSON document's pairs
        lines = "".join(iter_jsonl(stream_pairs(reach, sources, destinations))).splitlines()
        assert [json.loads(line) for line in lines] == [pair_to_json(p) for p in expected]
        # CSV: the rows csv.writer writes
        streamed = "".join(iter_csv(stream_pairs(reach, sources, destinations)))
        assert streamed == render_csv(expected)
        # JSON: the text of json.dumps(indent=2) of the whole document
        doc = {
            "netseg": "1.0.0",
            "topology": {"name": topology.name, "file": topology.file},
            "pairs": [pair_to_json(p) for p in expected],
        }
        text = "".join(iter_json(topology, iter(got)))
        assert text == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        # the summary counts every pair once
        summary = class_pairs(reach, sources, destinations)
        assert sum(c.pairs for c in summary) == len(expected)
        assert {(s, d) for c in summary for s in c.sources for d in c.destinations if s != d} >= {
            (p.source, p.destination) for p in expected
        }
        tail = "".join(iter_summary(topology, summary)).splitlines()[-1]
        assert (f"{len(expected):,} reachable pair" in tail) or not expected


def test_csv_quotes_references_as_csv_writer_does() -> None:
    from netseg.render.reach import _csv_field

    for text in ["plain", "a,b", 'say "hi"', "two\nlines", ""]:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([text, "x"])
        assert _csv_field(text) + ",x\n" == buf.getvalue()
