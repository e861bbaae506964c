"""The shape table of ``make bench``: ``netseg check`` on every estate shape of
:mod:`bench.shapes` at each size, with time, peak RSS, output bytes, findings and the growth
exponent in guests (spec/performance.md, "Every shape, not one").

Each run is a fresh child (as in :mod:`bench.harness`) under limits, so that a shape that blows
up reports it instead of taking the shared machine down: ``RLIMIT_CPU`` (``--shape-cpu``,
seconds) and ``RLIMIT_AS`` (``--shape-memory``, MB). A run that exceeds one is a row with its
outcome (``cpu limit``, ``out of memory``, ``exit N``) and no figures.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import shapes

REPO = Path(__file__).resolve().parents[1]

#: Targets of spec/performance.md for the check at the largest size of a shape.
TARGET_SECONDS = 15.0
TARGET_RSS_MB = 2048.0
TARGET_JSON_MB = 50.0
TARGET_EXPONENT = 1.1
TARGET_REACH_RSS_MB = 1024.0


@dataclass
class ShapeRun:
    """One command on one shape at one size."""

    shape: str
    guests: int
    command: str
    outcome: str  # "ok", "cpu limit", "out of memory", "exit N"
    wall: float | None = None
    cpu: float | None = None  # user + system seconds of the child (the shared machine's load
    # moves wall time several-fold; CPU time much less)
    rss_mb: float | None = None
    output_bytes: int | None = None
    findings: int | None = None  # check: findings; reach: pairs (lines)
    # growth of CPU time from the previous size: wall time also counts waiting for a core,
    # which on a shared machine moves by more than the growth being measured
    exponent: float | None = None
    met: bool | None = None
    notes: list[str] = field(default_factory=list)


def _limits(cpu_s: int, mem_mb: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
        resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))

    return apply


def run_limited(
    cmd: Sequence[str], cpu_s: int, mem_mb: int
) -> tuple[str, float, float, str, float]:
    """(outcome, wall, peak RSS in MB, the end of standard error, CPU seconds) of one limited
    child."""
    start = time.perf_counter()
    child = subprocess.Popen(
        list(cmd),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
        preexec_fn=_limits(cpu_s, mem_mb),  # the harness runs no threads
    )
    assert child.stderr is not None
    err = child.stderr.read().decode(errors="replace")
    child.stderr.close()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code in (0, 1):
        outcome = "ok"
    elif code in (-signal.SIGXCPU, -signal.SIGKILL) and "MemoryError" not in err:
        outcome = "cpu limit"
    elif "MemoryError" in err or "out of memory" in err:
        outcome = "out of memory"
    else:
        outcome = f"exit {code}"
    return outcome, wall, usage.ru_maxrss / 1024, err[-1500:], usage.ru_utime + usage.ru_stime


_SUMMARY = re.compile(r'"summary":\s*\{([^}]*)\}')


def findings_in(path: Path) -> int | None:
    """The number of findings of a check document, from its summary (read from its head)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16).decode(errors="replace")
    m = _SUMMARY.search(head)
    if m is None:
        return None
    return sum(int(n) for n in re.findall(r":\s*(\d+)", m.group(1)))


def lines_in(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            n += chunk.count(b"\n")
    return n


def shape_input(cache: Path, shape: str, guests: int) -> Path:
    path = cache / f"shape-{shape}-{guests}g.json"
    if not path.exists():
        # A name of this process's own: two benchmark runs sharing a cache must not write
        # into one half-finished file.
        tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
        tmp.write_text(json.dumps(shapes.generate_shape(shape, guests), separators=(",", ":")))
        tmp.replace(path)
    return path


def exponent(t0: float, t1: float, g0: int, g1: int) -> float:
    return math.log(t1 / t0) / math.log(g1 / g0)


#: Left out of quick mode (CI), where they would take minutes: the long chains' ACL decisions
#: still grow with the classes (docs/performance.md, "Missed targets").
QUICK_SKIPPED = ("chain20", "chain50")


def plan(
    quick: bool, only: Sequence[str] = (), sizes_only: Sequence[int] = ()
) -> list[tuple[str, tuple[int, ...]]]:
    """(shape, sizes) in table order; quick mode uses small sizes (figures meaningless);
    ``sizes_only`` keeps those sizes of each shape (a shape with none of them is left out)."""
    out = []
    for shape in shapes.SHAPES:
        if only and shape not in only:
            continue
        if quick and not only and shape in QUICK_SKIPPED:
            continue
        router = shape in shapes.ROUTER_SHAPES
        if quick:
            sizes: tuple[int, ...] = (50, 100) if router else (500, 1000)
        else:
            sizes = shapes.ROUTER_SIZES if router else shapes.ESTATE_SIZES
        if sizes_only:
            sizes = tuple(n for n in sizes if n in sizes_only)
            if not sizes:
                continue
        out.append((shape, sizes))
    return out


def measure_shapes(
    netseg: Sequence[str],
    cache: Path,
    out_dir: Path,
    log: Callable[[str], None],
    *,
    quick: bool = False,
    only: Sequence[str] = (),
    cpu_s: int = 300,
    mem_mb: int = 6144,
    reach: bool = True,
    sizes_only: Sequence[int] = (),
) -> list[ShapeRun]:
    rows: list[ShapeRun] = []
    for shape, sizes in plan(quick, only, sizes_only):
        prev: ShapeRun | None = None
        for guests in sizes:
            topo = shape_input(cache, shape, guests)
            out = out_dir / f"{shape}-{guests}.json"
            out.unlink(missing_ok=True)
            cmd = [*netseg, "check", str(topo), "--format", "json", "-o", str(out)]
            outcome, wall, rss, err, cpu = run_limited(cmd, cpu_s, mem_mb)
            if outcome == "ok" and not out.exists():
                outcome = "no output"  # exit 0 or 1 without a document: a failure too
            row = ShapeRun(shape, guests, "check --format json", outcome)
            if outcome == "ok":
                row.wall, row.rss_mb, row.cpu = wall, rss, cpu
                row.output_bytes = out.stat().st_size
                row.findings = findings_in(out)
                if prev is not None and prev.cpu is not None:
                    row.exponent = exponent(prev.cpu, cpu, prev.guests, guests)
            else:
                row.notes.append(err.strip().splitlines()[-1] if err.strip() else outcome)
            out.unlink(missing_ok=True)
            rows.append(row)
            log(f"  {shape} {guests}: {_describe(row)}")
            prev = row
        _judge(rows[-1], sizes, router=shape in shapes.ROUTER_SHAPES)
    if reach and (not only or "flat" in only):
        guests = 1000 if quick else shapes.ESTATE_SIZES[-1]
        topo = shape_input(cache, "flat", guests)
        out = out_dir / "flat-reach.jsonl"
        cmd = [*netseg, "reach", str(topo), "--format", "jsonl", "-o", str(out)]
        outcome, wall, rss, err, cpu = run_limited(cmd, cpu_s * 2, mem_mb)
        if outcome == "ok" and not out.exists():
            outcome = "no output"
        row = ShapeRun("flat", guests, "reach --format jsonl", outcome)
        if outcome == "ok":
            row.wall, row.rss_mb, row.cpu = wall, rss, cpu
            row.output_bytes = out.stat().st_size
            row.findings = lines_in(out)
            row.met = rss <= TARGET_REACH_RSS_MB
            row.notes.append(
                f"{row.findings / wall:,.0f} pairs/s of wall time, {row.findings / cpu:,.0f} of "
                "CPU time over the whole run (bench/reach_rate.py: the stream alone)"
            )
        else:
            row.notes.append(err.strip().splitlines()[-1] if err.strip() else outcome)
            row.met = False
        out.unlink(missing_ok=True)
        rows.append(row)
        log(f"  flat reach {guests}: {_describe(row)}")
    return rows


def _judge(last: ShapeRun, sizes: tuple[int, ...], router: bool) -> None:
    """Targets apply to the largest size of a shape (router shapes: their own 15 s)."""
    if last.outcome != "ok" or last.wall is None or last.rss_mb is None:
        last.met = False
        return
    ok = last.wall <= TARGET_SECONDS and last.rss_mb <= TARGET_RSS_MB
    ok = ok and (last.output_bytes or 0) <= TARGET_JSON_MB * 1e6
    if last.exponent is not None:
        ok = ok and last.exponent <= TARGET_EXPONENT
    last.met = ok


def _describe(r: ShapeRun) -> str:
    if r.outcome != "ok":
        return f"{r.outcome} ({'; '.join(r.notes)})"
    exp = f", exponent {r.exponent:.2f}" if r.exponent is not None else ""
    return (
        f"{r.wall:.2f} s ({r.cpu or 0:.2f} s CPU), {r.rss_mb:.0f} MB, {(r.output_bytes or 0) / 1e6:.2f} MB out, "
        f"{r.findings} {'pairs' if r.command.startswith('reach') else 'findings'}{exp}"
    )


def table(rows: list[ShapeRun]) -> str:
    head = (
        "shape", "guests", "command", "time", "CPU", "peak RSS", "output", "findings", "exp.",
        "met?",
    )  # fmt: skip
    cells = [head]
    for r in rows:
        ok = r.outcome == "ok"
        cells.append(
            (
                r.shape,
                f"{r.guests:,}",
                r.command,
                f"{r.wall:.2f} s" if ok and r.wall is not None else r.outcome,
                f"{r.cpu:.2f} s" if ok and r.cpu is not None else "-",
                f"{r.rss_mb:.0f} MB" if ok and r.rss_mb is not None else "-",
                _bytes(r.output_bytes) if ok else "-",
                f"{r.findings:,}" if r.findings is not None else "-",
                f"{r.exponent:.2f}" if r.exponent is not None else "-",
                "-" if r.met is None else ("yes" if r.met else "NO"),
            )
        )
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _bytes(n: int | None) -> str:
    if n is None:
        return "-"
    if n >= 1e6:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e3:.1f} KB"


def as_json(rows: list[ShapeRun]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
