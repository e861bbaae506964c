"""Replay's capture shapes and workers on CPU time: ``python -m bench.replay_cpu``.

``make bench`` compares wall times, which on a shared machine move with everyone else's jobs.
This runs the same inputs (the reference capture, every capture shape of
``bench.harness.CAPTURE_SHAPES``, the four worker files) as fresh subprocesses and reports, for
netseg and for ``tshark -q -z conv,ip`` on the same file in the same run, the CPU time (user +
system of the process and its children, from ``os.wait4``), the wall time and the peak RSS,
with the load average at the start of each run. ``--quick`` uses the bench's quick inputs;
``--no-tshark`` leaves tshark out (it takes about 50 CPU seconds on the full inputs);
``--only NAME`` (repeatable: reference, short, short-all, zipf, workers) picks rows.

The workers row also gives the critical path of ``--workers 1`` and ``--workers 2`` on idle
cores, from CPU times measured inside one run each: the main process's CPU until the workers
are forked and until it needs their tables, each worker's CPU, and the main process's CPU after
the last worker handed its tables back (merging, judging, writing). On two idle cores
``--workers 2`` takes about the larger of (fork + slowest worker) and the main process's own
work meanwhile, plus what follows: a lower bound, since the main process's work overlaps the
workers' on the same two cores.
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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.harness import CAPTURE_SHAPES, FULL, NETSEG, QUICK, REPO, Inputs, compile_bytecode

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


def _timed_flush() -> object:
    """``parallel._flush``, then the worker's CPU since it was forked (on standard output)."""
    import resource

    got = _FLUSH[0]()
    u = resource.getrusage(resource.RUSAGE_SELF)
    # one write of the whole line: two workers' print()s interleaved the text and its newline
    os.write(1, (json.dumps({"worker": u.ru_utime + u.ru_stime}) + "\n").encode())
    return got


_FLUSH: list[Callable[[], object]] = []


def _critical_path_child(topology: str, workers: int, files: list[str]) -> None:
    """Run one replay like ``netseg replay`` and print its phases' CPU seconds as JSON."""
    import netseg.capture.parallel as parallel

    start = time.process_time()
    _FLUSH.append(parallel._flush)
    parallel._flush = _timed_flush  # type: ignore[assignment]
    with parallel.start_tabulation(files, workers) as pending:
        forked = time.process_time()
        from netseg.analysis import load
        from netseg.capture.replay import replay
        from netseg.graph import analyse_reachability
        from netseg.render.replay import iter_replay_json

        loaded = load(topology)
        reach = analyse_reachability(loaded)
        before = time.process_time()
        result = replay(loaded, files, workers=workers, reachability=reach, tables=pending)
        b"".join(iter_replay_json(result))
    done = time.process_time()
    phases = {"main_before": before - start, "main_after": done - before, "fork": forked - start}
    print(json.dumps(phases), flush=True)


def critical_path(topology: Path, files: Sequence[Path], workers: int) -> dict[str, float]:
    """The phases of one run (see the module's docstring) and the critical path they give."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.replay_cpu", "--child", str(topology), str(workers),
         *map(str, files)],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout  # fmt: skip
    got: dict[str, float] = {}
    slowest = 0.0
    for line in out.splitlines():
        item = json.loads(line)
        if "worker" in item:
            slowest = max(slowest, item["worker"])
        else:
            got.update(item)
    got["slowest_worker"] = slowest
    if workers == 1:
        got["path"] = got["main_before"] + got["main_after"]
    else:
        got["path"] = max(got["main_before"], got["fork"] + slowest) + got["main_after"]
    return got


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--child"]:
        _critical_path_child(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
        return 0
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
    compile_bytecode()
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
                p1 = min(
                    (critical_path(topo, files, 1) for _ in range(args.repeat)),
                    key=lambda p: p["path"],
                )
                p2 = min(
                    (critical_path(topo, files, 2) for _ in range(args.repeat)),
                    key=lambda p: p["path"],
                )
                out[name] = {
                    "workers_1": asdict(w1),
                    "workers_2": asdict(w2),
                    "path_1": p1,
                    "path_2": p2,
                }
                print(
                    f"workers: --workers 1 {w1.cpu:.2f} s CPU, {w1.wall:.2f} s wall; "
                    f"--workers 2 {w2.cpu:.2f} s CPU, {w2.wall:.2f} s wall: "
                    f"{w1.wall / w2.wall:.2f}× wall (load {w1.load:.1f}/{w2.load:.1f}); "
                    f"critical path on idle cores {p1['path']:.2f} s / {p2['path']:.2f} s: "
                    f"{p1['path'] / p2['path']:.2f}× (--workers 2: main {p2['main_before']:.2f} s "
                    f"before, slowest worker {p2['slowest_worker']:.2f} s, main "
                    f"{p2['main_after']:.2f} s after)"
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
