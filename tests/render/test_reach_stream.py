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
from netseg.graph.reach import Reachability, ReachablePair
from netseg.graph.stream import class_pairs, stream_pairs, stream_rows, to_pair
from netseg.model import refs
from netseg.model.topology import Topology
from netseg.render.reach import (
    iter_csv,
    iter_json,
    iter_jsonl,
    iter_summary,
    iter_text,
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
        only = stream_pairs(reach, sources, destinations, violating_only=True)
        assert [to_pair(p) for p in only] == reach.pairs(sources, destinations, violating_only=True)
        # JSON Lines: one object per pair, the keys and values of the JSON document's pairs
        lines = b"".join(iter_jsonl(stream_rows(reach, sources, destinations))).splitlines()
        assert [json.loads(line) for line in lines] == [pair_to_json(p) for p in expected]
        # CSV: the rows csv.writer writes
        streamed = b"".join(iter_csv(stream_rows(reach, sources, destinations)))
        assert streamed.decode() == render_csv(expected)
        # JSON: the text of json.dumps(indent=2) of the whole document
        doc = {
            "netseg": "1.0.0",
            "topology": {"name": topology.name, "file": topology.file},
            "pairs": [pair_to_json(p) for p in expected],
        }
        text = "".join(iter_json(topology, iter(got)))
        assert text == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        # the summary partitions the pairs: each class pair's members pair exactly as it says
        summary = class_pairs(reach, sources, destinations)
        assert sum(c.pairs for c in summary) == len(expected)
        by_ends = {(p.source, p.destination): p for p in expected}
        for c in summary:
            members = [(s, d) for s in c.sources for d in c.destinations if s != d]
            assert len(members) == c.pairs
            for s, d in members:
                p = by_ends.pop((s, d))
                assert (p.services, p.allowed, p.violating) == (c.services, c.allowed, c.violating)
                assert (p.mode, p.via, p.tag_injection) == (c.mode, c.via, c.tag_injection)
        assert not by_ends
        tail = "".join(iter_summary(topology, summary)).splitlines()[-1]
        assert (f"{len(expected):,} reachable pair" in tail) or not expected
        # the listing of every pair (--all, --explain): the table of the pair list
        for explain in (False, True):
            for colour in (False, True):
                rows = stream_rows(reach, sources, destinations, paths=explain)
                text = b"".join(iter_text(topology, summary, rows, explain, colour)).decode()
                assert text == _table(topology, expected, explain, colour)


def _table(topology: Topology, pairs: list[ReachablePair], explain: bool, colour: bool) -> str:
    """``reach --all`` as it was written from the whole pair list (the reference)."""
    red, reset = ("\033[31m", "\033[0m") if colour else ("", "")
    if not pairs:
        return f"{topology.name}: no reachable pairs\n"

    def how(p: ReachablePair) -> str:
        how = "L2" if p.mode == "l2" else "L3 " + ",".join(refs.body(v, "router") for v in p.via)
        return how + (" +tag" if p.tag_injection else "")

    head = ("FROM", "TO", "HOW", "SERVICES", "VIOLATING")
    rows = [
        (p.source, p.destination, how(p), str(p.services), str(p.violating) if p.violating else "-")
        for p in pairs
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]

    def fmt(r: tuple[str, ...], bad: bool = False) -> str:
        cells = [r[i].ljust(widths[i]) for i in range(4)]
        last = f"{red}{r[4]}{reset}" if bad else r[4]
        return "  ".join([*cells, last]).rstrip()

    lines = [fmt(head)]
    for p, r in zip(pairs, rows, strict=True):
        lines.append(fmt(r, bool(p.violating)))
        if explain:
            for k, h in enumerate(p.path, start=1):
                detail = f"  {h.detail}" if h.detail else ""
                lines.append(f"    {k:>2}. {h.ref}{detail}")
    violating = sum(1 for p in pairs if p.violating)
    n = len(pairs)
    lines.append("")
    lines.append(
        f"{topology.name}: {n} reachable pair{'s' if n != 1 else ''}, {violating} violating the policy"
    )
    return "\n".join(lines) + "\n"


def test_csv_quotes_references_as_csv_writer_does() -> None:
    from netseg.render.reach import _csv_field

    for text in ["plain", "a,b", 'say "hi"', "two\nlines", ""]:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([text, "x"])
        assert _csv_field(text) + ",x\n" == buf.getvalue()


def test_csv_quotes_each_path_as_csv_writer_does(tmp_path: Path) -> None:
    """A source whose name needs quoting quotes every path of its rows; a port group that
    needs it quotes the paths through it (of some rows only, or of some of a row's lines)."""
    doc = generate_shape("flat", 100)
    doc["hosts"][1]["vswitches"][0]["portgroups"][1]["name"] = 'VM, "Network"'
    for g in doc["guests"]:
        if g["host"] == doc["hosts"][1]["name"]:
            g["nics"][0]["portgroup"] = 'VM, "Network"'
    doc["guests"][2]["name"] = 'g,"3"'
    path = tmp_path / "quoted.json"
    path.write_text(json.dumps(doc))
    reach = analyse_reachability(load(path))
    for src, dst in SELECTIONS[:2]:
        sources, destinations = reach.select(src), reach.select(dst)
        expected = render_csv(reach.pairs(sources, destinations))
        assert '"' in expected
        assert b"".join(iter_csv(stream_rows(reach, sources, destinations))).decode() == expected
