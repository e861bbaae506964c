"""The capture layer's cost by stage, in-process, and whole ``netseg replay`` runs: CPU time.

``python -m bench.capture_layer [CAPTURE]`` reads a capture (default: the bench's reference
capture in the cache) the way ``tabulate_file`` does and prints the CPU seconds of each stage
(read: the record walk and the header columns; decode; conversations; events), best of
``--repeat``, for the compiled kernel and for the numpy path (``--kernel``). With ``--replay``
it also runs ``netseg replay`` on the reference and on the 1,000-frame capture as fresh
processes (the bench's ``replay_throughput``), with the child's CPU time from ``wait4`` beside
the wall time. CPU time is what to compare on a shared machine: wall time moves with the load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

from bench.harness import FULL, NETSEG, REPO, Inputs

STAGES = ("read", "decode", "conversations", "events")


def stages(path: Path) -> dict[str, float]:
    """CPU seconds per stage of reading ``path`` into its tables, and the frame count."""
    from netseg.capture.accounting import _DECODE_BATCH
    from netseg.capture.conversations import ConversationTable, EventTable
    from netseg.capture.decode import decode_batch
    from netseg.capture.reader import CaptureReader, RecordBatch

    spent = dict.fromkeys(STAGES, 0.0)
    conv, events = ConversationTable(), EventTable()
    frames = 0
    clock = time.process_time

    def timed_batches() -> Iterator[RecordBatch]:
        it = CaptureReader(path, reuse_buffer=True).batches()
        while True:
            t = clock()
            chunk = next(it, None)
            spent["read"] += clock() - t
            if chunk is None:
                return
            yield chunk

    for chunk in timed_batches():
        for batch in chunk.split(_DECODE_BATCH):
            t0 = clock()
            d = decode_batch(batch)
            t1 = clock()
            conv.add_batch(d, 0)
            t2 = clock()
            events.add_batch(d, 0)
            t3 = clock()
            spent["decode"] += t1 - t0
            spent["conversations"] += t2 - t1
            spent["events"] += t3 - t2
            frames += len(batch)
    spent["frames"] = frames
    spent["rows"] = len(conv)
    return spent


def replay_run(topology: Path, capture: Path, kernel: str, tree: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one ``netseg replay`` as a fresh process."""
    env = dict(os.environ)
    if kernel == "numpy":
        env["NETSEG_CAPTURE_KERNEL"] = "numpy"
    if tree != REPO:
        env["PYTHONPATH"] = str(tree)
    cmd = [*NETSEG, "replay", str(topology), str(capture), "--format", "json", "-o", os.devnull]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=tree, env=env)
    _, _, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.capture_layer", description=__doc__)
    ap.add_argument("capture", nargs="?", type=Path, help="default: the reference capture")
    ap.add_argument("--cache", type=Path, default=None, help="the bench's cache directory")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many (default 3)")
    ap.add_argument(
        "--kernel",
        choices=("both", "native", "numpy"),
        default="both",
        help="which capture path to time (default both, interleaved)",
    )
    ap.add_argument("--replay", action="store_true", help="also time whole netseg replay runs")
    ap.add_argument(
        "--tree",
        type=Path,
        default=REPO,
        help="the netseg checkout to time (default this one): a 'before' beside the 'after'",
    )
    args = ap.parse_args(argv)
    tree = args.tree.resolve()
    if tree != REPO:
        sys.path.insert(0, str(tree))
    cache = args.cache or Path(
        os.environ.get("NETSEG_BENCH_CACHE", Path.home() / ".cache" / "netseg-bench")
    )
    inputs = Inputs(cache, FULL, quick=False)
    capture = args.capture or inputs.capture(FULL.frames)
    try:
        from netseg.capture import native
    except ImportError:  # a tree from before the compiled kernel: numpy only
        native = None  # type: ignore[assignment]
    kernels = ["native", "numpy"] if args.kernel == "both" else [args.kernel]
    if "native" in kernels and (native is None or not native.built()):
        why = native.why_not() if native is not None else "this tree has none"
        print(f"compiled kernel not available ({why}): numpy only", file=sys.stderr)
        kernels = ["numpy"]
    import netseg

    print(f"{capture.name}  ({Path(netseg.__file__).parents[1]}, load {os.getloadavg()[0]:.2f})")
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for k in kernels:
            with native.forced(k == "native") if native is not None else nullcontext():
                got = stages(capture)
            mine = best.setdefault(k, got)
            for s in STAGES:
                mine[s] = min(mine[s], got[s])
    for k, got in best.items():
        total = sum(got[s] for s in STAGES)
        cells = "  ".join(f"{s} {got[s]:.3f}" for s in STAGES)
        print(
            f"{k:6}  {cells}  total {total:.3f} s CPU  "
            f"({got['frames'] / total:,.0f} frames/s, {int(got['rows']):,} conversations)"
        )
    if args.replay:
        topo = inputs.replay_topology()
        tiny = inputs.capture(1000, seed=7)
        for k in kernels:
            runs = {
                c: [replay_run(topo, c, k, tree) for _ in range(args.repeat)]
                for c in (tiny, capture)
            }
            (bw, bc), (rw, rc) = (
                (min(r[0] for r in runs[c]), min(r[1] for r in runs[c])) for c in (tiny, capture)
            )
            frames = FULL.frames - 1000
            print(
                f"{k:6}  replay 1,000 frames {bw:.2f} s wall / {bc:.2f} s CPU; reference "
                f"{rw:.2f} s / {rc:.2f} s; replay_throughput {frames / max(rw - bw, 1e-9):,.0f} "
                f"frames/s wall, {frames / max(rc - bc, 1e-9):,.0f} on CPU  "
                f"(load {os.getloadavg()[0]:.2f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
