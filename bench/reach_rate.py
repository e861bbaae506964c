"""The rate of ``netseg reach`` streams, in process: pairs per second of CPU time.

``python -m bench.reach_rate --shape flat --guests 10000 --format jsonl`` loads a shape of
:mod:`bench.shapes` (cached like the shape table's inputs), analyses it, then streams every pair
(or the first ``--limit``) of ``--from``/``--to`` in the chosen format into a counting sink,
and prints the load and stream phases' CPU and wall seconds, pairs (lines), bytes, pairs per
CPU second and the process's peak RSS. The stream phase is what the renderers cost: the issue's
target is 1,000,000 pairs/s for JSON Lines on the flat shape.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from bench.shape_table import shape_input
from netseg.graph import (
    Attachment,
    Reachability,
    analyse_reachability,
    class_pairs,
    stream_rows,
)
from netseg.model.topology import Topology
from netseg.render.reach import iter_csv, iter_jsonl, iter_text
from netseg.topology import load


def _chunks(
    fmt: str,
    topology: Topology,
    reach: Reachability,
    sources: list[Attachment],
    destinations: list[Attachment],
) -> Iterable[bytes]:
    """The command's chunks (``text``: the ``--all`` table)."""
    if fmt == "text":
        rows = stream_rows(reach, sources, destinations, paths=False)
        return iter_text(topology, class_pairs(reach, sources, destinations), rows)
    rows = stream_rows(reach, sources, destinations)
    return iter_jsonl(rows) if fmt == "jsonl" else iter_csv(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.reach_rate", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--shape", default="flat")
    ap.add_argument("--guests", type=int, default=10_000)
    ap.add_argument(
        "--format", choices=["jsonl", "csv", "text"], default="jsonl", help="text: the --all table"
    )
    ap.add_argument("--from", dest="source", default="guests")
    ap.add_argument("--to", dest="destination", default="management")
    ap.add_argument(
        "--limit", type=int, default=0, help="stop after about this many bytes (0: all)"
    )
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("NETSEG_BENCH_CACHE", Path.home() / ".cache" / "netseg-bench")),
    )
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    path = shape_input(args.cache, args.shape, args.guests)
    c0, w0 = time.process_time(), time.perf_counter()
    topology = load(path)
    reach = analyse_reachability(topology)
    sources, destinations = reach.select(args.source), reach.select(args.destination)
    c1, w1 = time.process_time(), time.perf_counter()
    lines = size = 0
    for chunk in _chunks(args.format, topology, reach, sources, destinations):
        data = chunk.encode() if isinstance(chunk, str) else chunk
        lines += data.count(b"\n")
        size += len(data)
        if args.limit and size >= args.limit:
            break
    c2, w2 = time.process_time(), time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu, wall = c2 - c1, w2 - w1
    print(
        f"{args.shape} {args.guests:,} guests, reach --format {args.format}: "
        f"load+analyse {c1 - c0:.2f} s CPU ({w1 - w0:.2f} s wall); "
        f"stream {lines:,} lines, {size / 1e6:,.1f} MB in {cpu:.2f} s CPU ({wall:.2f} s wall): "
        f"{lines / cpu:,.0f} lines/s of CPU, {size / 1e6 / cpu:,.0f} MB/s; "
        f"peak RSS {rss:,.0f} MB; load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
