"""Replay's capture shapes and workers on CPU time: ``python -m bench.replay_cpu``.

``make bench`` compares wall times, which on a shared machine move with everyone else's jobs.
This runs the same inputs (the reference capture, every capture shape of
``bench.harness.CAPTURE_SHAPES``, the four worker files) as fresh subprocesses and reports, for
netseg and for ``tshark -q -z conv,ip`` on the same file in the same run, the CPU time (user +
system of the process and its children, from ``os.wait4``), the wall time and the peak RSS,
with the load average at the start of each run. ``--quick`` uses the bench's quick inputs;
``--no-tshark`` leaves tshark out (it takes about 50 CPU seconds on the full inputs);
``--only NAME`` (repeatable: reference, short, short-all, zipf, workers) picks rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.harness import CAPTURE_SHAPES, FULL, NETSEG, QUICK, REPO, Inputs

ROWS = ("reference", "zipf", "short", "short-all", "workers")


@dataclass(frozen=True)
class Usage:
    cpu: float
    wall: float
    rss_mb: float
    load: float


def measure(cmd: Sequence[str], repeat: int = 1) -> Usage:
    """The run of ``cmd`` with the least CPU time among ``repeat`` (a fresh child each)."""
    runs = []
    for _ in range(repeat):
        load = os.getloadavg()[0]
        start = time.perf_counter()
        child = subprocess.Popen(
            list(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            raise RuntimeError(f"{' '.join(cmd)} exited {code}")
        runs.append(Usage(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, load))
    return min(runs, key=lambda u: u.cpu)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.replay_cpu", description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument("--only", action="append", choices=ROWS, default=[])
    ap.add_argument("--repeat", type=int, default=2, help="netseg runs per row, best CPU (2)")
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("NETSEG_BENCH_CACHE", Path.home() / ".cache" / "netseg-bench")),
    )
    args = ap.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    inputs = Inputs(args.cache, sizes, args.quick)
    rows = args.only or list(ROWS)
    tshark = None if args.no_tshark else shutil.which("tshark")
    topo = inputs.replay_topology()
    caps = {"reference": inputs.capture(sizes.frames)}
    for shape in CAPTURE_SHAPES:
        caps[shape.name] = inputs.shape_capture(shape)
    out: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="netseg-bench-") as tmp:
        json_out = str(Path(tmp) / "replay.json")

        def replay(*paths: Path, extra: Sequence[str] = ()) -> list[str]:
            return [*NETSEG, "replay", str(topo), *map(str, paths), "--format", "json",
                    "-o", json_out, *extra]  # fmt: skip

        for name in rows:
            if name == "workers":
                files = [inputs.capture(sizes.worker_file_frames, seed=11 + k) for k in range(4)]
                w1 = measure(replay(*files, extra=["--workers", "1"]), args.repeat)
                w2 = measure(replay(*files, extra=["--workers", "2"]), args.repeat)
                out[name] = {"workers_1": asdict(w1), "workers_2": asdict(w2)}
                print(
                    f"workers: --workers 1 {w1.cpu:.2f} s CPU, {w1.wall:.2f} s wall; "
                    f"--workers 2 {w2.cpu:.2f} s CPU, {w2.wall:.2f} s wall: "
                    f"{w1.wall / w2.wall:.2f}× wall (load {w1.load:.1f}/{w2.load:.1f})"
                )
                continue
            cap = caps[name.removesuffix("-all")]
            extra = ["--all-conversations"] if name.endswith("-all") else []
            mine = measure(replay(cap, extra=extra), args.repeat)
            row: dict[str, object] = {"netseg": asdict(mine)}
            line = (
                f"{name}: netseg {mine.cpu:.2f} s CPU, {mine.wall:.2f} s wall, "
                f"{mine.rss_mb:.0f} MB (load {mine.load:.1f})"
            )
            if tshark and not extra:
                peer = measure([tshark, "-r", str(cap), "-q", "-z", "conv,ip"])
                row["tshark"] = asdict(peer)
                line += (
                    f"; tshark {peer.cpu:.2f} s CPU, {peer.wall:.2f} s wall, {peer.rss_mb:.0f} MB: "
                    f"{peer.cpu / mine.cpu:.1f}× on CPU, {peer.wall / mine.wall:.1f}× on wall"
                )
            out[name] = row
            print(line, flush=True)
    path = args.cache / f"replay-cpu-{inputs.tag}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"figures written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
