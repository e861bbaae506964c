"""Every figure of the performance contract (spec/performance.md), measured in one run.

``python -m bench`` (or ``make bench``) generates the inputs deterministically (fixed seeds),
caches them under ``~/.cache/netseg-bench`` (``--cache DIR`` or ``NETSEG_BENCH_CACHE``), runs
each netseg command as a fresh subprocess (wall time, and peak RSS from ``os.wait4``), runs the
peers in the same run (``tshark -z conv,ip`` on the same file; a scapy ``PcapReader`` loop on a
subset), prints one table and writes every figure to a JSON file. ``--quick`` does the same on
small inputs in well under a minute (CI runs it; the numbers then mean nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import capture_gen, gen_topology, shape_table
from bench import diagram as diagram_bench

REPO = Path(__file__).resolve().parents[1]
NETSEG = [sys.executable, "-m", "netseg.cli.main"]


@dataclass(frozen=True)
class Sizes:
    hosts: int
    guests: int
    vlans: int
    zones: int
    frames: int
    conversations: int
    endpoints: int
    scapy_frames: int
    worker_file_frames: int
    diagram_guests: int


FULL = Sizes(1000, 50_000, 400, 20, 2_000_000, 10_000, 1000, 20_000, 500_000, 200)
QUICK = Sizes(20, 1000, 40, 6, 20_000, 1000, 100, 1000, 10_000, 30)


@dataclass(frozen=True)
class CaptureShape:
    """A capture shape of the specification (performance.md, "Every shape, not one"); quick
    mode uses a hundredth of its frames and conversations."""

    name: str
    what: str
    frames: int
    conversations: int
    weights: str  # capture_gen.generate_capture's
    seed: int
    service_ports: tuple[int, ...] = (22, 53, 80, 443, 3306, 5432, 8080, 123, 389, 445)


#: The shapes besides the reference capture (whose rows are replay_throughput / replay_vs_tshark).
#: The ~1,000 guests mostly talk inside their VLAN (about 6,000 pairs): 200,000 distinct short
#: conversations need more services than the reference's ten, here every port below 1024.
CAPTURE_SHAPES = (
    CaptureShape(
        "short", "short conversations", 1_000_000, 200_000, "each", 21, tuple(range(1, 1024))
    ),
    CaptureShape("zipf", "Zipf-like weights", 500_000, 20_000, "zipf", 22),
)


@dataclass
class Figure:
    """One row of the table. ``ratio`` is what the target applies to when there is a peer."""

    name: str
    what: str
    unit: str
    netseg: float | None
    peer: float | None = None
    peer_name: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


#: Every figure the run produces, in table order (the quick-mode test checks them all).
FIGURES = (
    "replay_throughput",
    "replay_vs_tshark",
    "replay_reference_topology",
    "replay_vs_scapy",
    "replay_peak_rss",
    "replay_peak_rss_2x_frames",
    "replay_workers_2_vs_1",
    "check_reference",
    "check_reference_rss",
    "check_reference_yaml",
    "reach_reference",
    "check_scaling_2x_guests",
    "reach_scaling_2x_guests",
    "diagram_one_host",
    "diagram_overview_50k",
)
#: The capture shapes' rows (measure_capture_shapes), after the others.
FIGURES += tuple(
    f"replay_shape_{shape.name}_{row}"
    for shape in CAPTURE_SHAPES
    for row in ("vs_tshark", "rss", *(("all_conversations_rss",) if shape.name == "short" else ()))
)


@dataclass(frozen=True)
class Run:
    wall: float
    rss_mb: float
    returncode: int


def run(cmd: Sequence[str], ok: Sequence[int] = (0, 1)) -> Run:
    """Run ``cmd`` as a fresh child; its own peak RSS comes from ``wait4`` (not the harness')."""
    start = time.perf_counter()
    child = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    if child.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} exited {child.returncode}:\n{err[-2000:]}")
    return Run(wall, usage.ru_maxrss / 1024, child.returncode)


def best(cmd: Sequence[str], repeat: int) -> Run:
    """The fastest of ``repeat`` runs (the machine is shared: the minimum is the least noisy)."""
    runs = [run(cmd) for _ in range(repeat)]
    return min(runs, key=lambda r: r.wall)


# -- inputs -----------------------------------------------------------------------------------


class Inputs:
    def __init__(self, cache: Path, sizes: Sizes, quick: bool) -> None:
        self.cache = cache
        self.sizes = sizes
        self.tag = "quick" if quick else "full"
        cache.mkdir(parents=True, exist_ok=True)

    def _cached(self, name: str, make: Callable[[Path], object]) -> Path:
        path = self.cache / name
        if not path.exists():
            tmp = path.with_name(path.name + ".part")
            make(tmp)
            tmp.replace(path)
        return path

    def topology_doc(self, guests: int, hosts: int | None = None) -> dict[str, Any]:
        s = self.sizes
        h = s.hosts if hosts is None else hosts
        return gen_topology.generate_topology(h, guests, s.vlans, s.zones, 4, seed=1)

    def topology(self, factor: int = 1, suffix: str = "json") -> Path:
        s = self.sizes
        hosts, guests = s.hosts * factor, s.guests * factor
        name = f"topology-{hosts}h-{guests}g-{s.vlans}v-{s.zones}z.{suffix}"

        def make(path: Path) -> None:
            doc = self.topology_doc(guests, hosts)
            if suffix == "json":
                path.write_text(json.dumps(doc))
            else:
                import yaml

                dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
                path.write_text(yaml.dump(doc, Dumper=dumper, sort_keys=False))

        return self._cached(name, make)

    def replay_hosts(self) -> int:
        """Hosts of the replay topology: the first ones, holding about ``endpoints`` guests."""
        s = self.sizes
        return max(1, s.endpoints // (s.guests // s.hosts))

    def replay_topology(self) -> Path:
        """The topology the replay captures are made from and replayed against: the leading
        hosts of the reference topology (``gen_topology.leading_hosts``), whose ~1,000 guests
        are the capture's endpoints. The reference topology holds the same guests too."""
        s = self.sizes
        keep = self.replay_hosts()
        name = f"topology-replay-{keep}h-of-{s.hosts}h-{s.guests}g-{s.vlans}v-{s.zones}z.json"
        return self._cached(
            name,
            lambda p: p.write_text(
                json.dumps(
                    gen_topology.leading_hosts(keep, s.hosts, s.guests, s.vlans, s.zones, 4, seed=1)
                )
            ),
        )

    def endpoints(self) -> list[capture_gen.Endpoint]:
        doc = json.loads(self.replay_topology().read_text())
        return capture_gen.topology_endpoints(doc, every=True)

    def capture(self, frames: int, seed: int = 1) -> Path:
        s = self.sizes
        # Named after the topology its endpoints come from: captures cached by earlier versions
        # (endpoints sampled from the whole reference topology) are not picked up.
        name = (
            f"capture-{self.tag}-{frames}f-{s.conversations}c-seed{seed}"
            f"-guests-of-{self.replay_hosts()}h.pcap"
        )
        return self._cached(
            name,
            lambda p: capture_gen.generate_capture(
                p, frames, s.conversations, seed, self.endpoints()
            ),
        )

    def shape_capture(self, shape: CaptureShape) -> Path:
        """A capture of one of the specification's shapes ("Every shape, not one"), between the
        replay topology's guests like :meth:`capture`."""
        frames, conversations = self.shape_size(shape)
        name = (
            f"capture-shape-{shape.name}-{shape.weights}-{self.tag}-{frames}f-{conversations}c"
            f"-guests-of-{self.replay_hosts()}h.pcap"
        )
        return self._cached(
            name,
            lambda p: capture_gen.generate_capture(
                p,
                frames,
                conversations,
                shape.seed,
                self.endpoints(),
                weights=shape.weights,
                service_ports=shape.service_ports,
            ),
        )

    def shape_size(self, shape: CaptureShape) -> tuple[int, int]:
        if self.tag == "quick":
            return shape.frames // 100, max(100, shape.conversations // 100)
        return shape.frames, shape.conversations

    def diagram_topology(self) -> Path:
        g = self.sizes.diagram_guests
        name = f"topology-1h-{g}g.json"
        return self._cached(
            name,
            lambda p: p.write_text(
                json.dumps(gen_topology.generate_topology(1, g, 12, 4, 2, seed=1))
            ),
        )


# -- the peers --------------------------------------------------------------------------------


def scapy_rate(path: Path, limit: int) -> float:
    """Frames per second of a plain scapy loop doing netseg's grouping, on the first frames."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import ARP, Dot1Q, Ether
    from scapy.utils import PcapReader

    table: dict[tuple[object, ...], list[int]] = {}
    n = 0
    start = time.perf_counter()
    with PcapReader(str(path)) as reader:
        for pkt in reader:
            if n >= limit:
                break
            n += 1
            vlan = pkt[Dot1Q].vlan if Dot1Q in pkt else None
            src: tuple[object, ...] = (pkt[Ether].src,) if Ether in pkt else ()
            dst: tuple[object, ...] = (pkt[Ether].dst,) if Ether in pkt else ()
            proto: object = pkt[Ether].type if Ether in pkt else None
            port: object = None
            if IP in pkt or IPv6 in pkt:
                ip = pkt[IP] if IP in pkt else pkt[IPv6]
                src += (ip.src,)
                dst += (ip.dst,)
                proto = ip.proto if IP in pkt else ip.nh
                if TCP in pkt or UDP in pkt:
                    l4 = pkt[TCP] if TCP in pkt else pkt[UDP]
                    port = min(l4.sport, l4.dport)
                elif ICMP in pkt:
                    port = None
            elif ARP in pkt:
                src += (pkt[ARP].psrc,)
            a, b = sorted((src, dst), key=repr)
            key = (vlan, a, b, proto, port)
            row = table.setdefault(key, [0, 0])
            row[0] += 1
            row[1] += len(pkt)
    return n / (time.perf_counter() - start)


# -- the figures ------------------------------------------------------------------------------


def warm(path: Path) -> None:
    """Read a file once so every timed run, netseg's and the peers', reads it from the page
    cache (the specification's setting): a capture just generated or evicted by the previous
    large file would otherwise add disk time to whichever run comes first."""
    with path.open("rb") as fh:
        while fh.read(16 << 20):
            pass


def _judge(value: float | None, target: str) -> bool | None:
    if value is None:
        return None
    op, _, num = target.partition(" ")
    limit = float(re.match(r"[\d.]+", num.replace(",", "")).group())  # type: ignore[union-attr]
    return value >= limit if op == ">=" else value <= limit


def _add_to(figs: list[Figure], f: Figure, log: Callable[[str], None]) -> None:
    gauge = f.ratio if f.ratio is not None else f.netseg
    f.met = _judge(gauge, f.target) if f.target else None
    figs.append(f)
    log(f"  {f.name}: {_cell(f.netseg)} {f.unit} {f.note}")


def measure(inputs: Inputs, out_dir: Path, log: Callable[[str], None]) -> list[Figure]:
    s = inputs.sizes
    figs: list[Figure] = []

    def add(f: Figure) -> None:
        _add_to(figs, f, log)

    log("inputs (generated once, then cached) ...")
    topo = inputs.topology()
    # Replay runs against the topology the capture was made from (the reference topology's
    # first hosts, whose guests are the capture's ~1,000 endpoints): see docs/performance.md.
    rtopo = inputs.replay_topology()
    cap = inputs.capture(s.frames)
    cap2 = inputs.capture(2 * s.frames)
    tiny = inputs.capture(1000, seed=7)
    files = [inputs.capture(s.worker_file_frames, seed=11 + k) for k in range(4)]
    for path in (cap, cap2, tiny, *files):
        warm(path)
    repeat = 2 if inputs.tag == "full" else 1  # best of two where runs are long enough to vary

    def replay(*captures: Path, workers: int = 1, against: Path = rtopo) -> list[str]:
        return [
            *NETSEG, "replay", str(against), *map(str, captures),
            "--format", "json", "-o", str(out_dir / "replay.json"), "--workers", str(workers),
        ]  # fmt: skip

    log("replay ...")
    base = best(replay(tiny), 2)
    ref = best(replay(cap), repeat)
    rate = (s.frames - 1000) / max(ref.wall - base.wall, 1e-9)
    add(
        Figure(
            "replay_throughput",
            "netseg replay, one worker, excluding interpreter start",
            "frames/s",
            rate,
            target=">= 2000000",
            note=f"({s.frames:,} frames: {ref.wall:.2f} s wall, of which {base.wall:.2f} s "
            "start, topology load and judging, measured on a 1,000-frame capture)",
        )
    )
    tshark = shutil.which("tshark")
    if tshark:
        t = run([tshark, "-r", str(cap), "-q", "-z", "conv,ip"], ok=(0,))
        add(
            Figure(
                "replay_vs_tshark",
                "wall time vs tshark -q -z conv,ip on the same file",
                "s",
                ref.wall,
                t.wall,
                "tshark",
                t.wall / ref.wall,
                ">= 10×",
                note=f"(tshark peak RSS {t.rss_mb:.0f} MB)",
            )
        )
    else:
        add(Figure("replay_vs_tshark", "vs tshark", "s", ref.wall, note="tshark not installed"))
    big = best(replay(cap, against=topo), repeat)
    add(
        Figure(
            "replay_reference_topology",
            f"the same replay against the reference topology ({s.guests:,} guests; information)",
            "s",
            big.wall,
            note=f"({big.wall - ref.wall:.2f} s more than against the capture's own topology: "
            "loading and analysing the larger topology)",
        )
    )
    peer_rate = scapy_rate(cap, s.scapy_frames)
    add(
        Figure(
            "replay_vs_scapy",
            f"frames/s vs a scapy PcapReader loop (first {s.scapy_frames:,} frames)",
            "frames/s",
            rate,
            peer_rate,
            "scapy",
            rate / peer_rate,
            ">= 100×",
        )
    )
    add(
        Figure(
            "replay_peak_rss",
            "peak RSS of netseg replay on the reference capture",
            "MB",
            ref.rss_mb,
            target="<= 400 MB",
        )
    )
    double = best(replay(cap2), 1)
    add(
        Figure(
            "replay_peak_rss_2x_frames",
            "peak RSS, same conversations over twice the frames, vs once",
            "MB",
            double.rss_mb,
            ref.rss_mb,
            "1× frames",
            double.rss_mb / ref.rss_mb,
            "<= 1.1×",
            note=f"(2× frames took {double.wall:.2f} s)",
        )
    )
    w1 = best(replay(*files, workers=1), repeat)
    w2 = best(replay(*files, workers=2), repeat)
    add(
        Figure(
            "replay_workers_2_vs_1",
            f"--workers 2 vs --workers 1 on 4 files of {s.worker_file_frames:,} frames",
            "s",
            w2.wall,
            w1.wall,
            "--workers 1",
            w1.wall / w2.wall,
            ">= 1.7×",
            note=f"(fixed part {base.wall:.2f} s; on the reading alone "
            f"{(w1.wall - base.wall) / max(w2.wall - base.wall, 1e-9):.2f}×)",
        )
    )

    log("design analysis ...")
    check = best(
        [*NETSEG, "check", str(topo), "--format", "json", "-o", str(out_dir / "c.json")], repeat
    )
    add(
        Figure(
            "check_reference",
            "netseg check, reference topology (JSON)",
            "s",
            check.wall,
            target="<= 15 s",
        )
    )
    add(
        Figure(
            "check_reference_rss", "peak RSS of that check", "MB", check.rss_mb, target="<= 2048 MB"
        )
    )
    yaml_topo = inputs.topology(suffix="yaml")
    ycheck = run(
        [*NETSEG, "check", str(yaml_topo), "--format", "json", "-o", str(out_dir / "y.json")]
    )
    add(
        Figure(
            "check_reference_yaml",
            "the same check on the YAML form (for information)",
            "s",
            ycheck.wall,
            note=f"({yaml_topo.stat().st_size / 1e6:.1f} MB of YAML)",
        )
    )
    reach = best(
        [*NETSEG, "reach", str(topo), "--format", "json", "-o", str(out_dir / "r.json")], repeat
    )
    add(
        Figure(
            "reach_reference",
            "netseg reach, every guest to every management interface",
            "s",
            reach.wall,
            target="<= 15 s",
        )
    )
    topo2 = inputs.topology(factor=2)
    check2 = best(
        [*NETSEG, "check", str(topo2), "--format", "json", "-o", str(out_dir / "c2.json")], repeat
    )
    add(
        Figure(
            "check_scaling_2x_guests",
            "netseg check: time for 2× hosts and guests / time for 1×",
            "s",
            check2.wall,
            check.wall,
            "1× guests",
            check2.wall / check.wall,
            "<= 2.2×",
            note=f"(2× peak RSS {check2.rss_mb:.0f} MB)",
        )
    )
    reach2 = best(
        [*NETSEG, "reach", str(topo2), "--format", "json", "-o", str(out_dir / "r2.json")], repeat
    )
    add(
        Figure(
            "reach_scaling_2x_guests",
            "netseg reach: time for 2× hosts and guests / time for 1×",
            "s",
            reach2.wall,
            reach.wall,
            "1× guests",
            reach2.wall / reach.wall,
            "<= 2.2×",
        )
    )
    measure_diagrams(inputs, out_dir, add, repeat)
    measure_capture_shapes(inputs, out_dir, add, log)
    return figs


def measure_diagrams(
    inputs: Inputs, out_dir: Path, add: Callable[[Figure], None], repeat: int
) -> None:
    """The diagram figures: one host with 200 guests (detail), and the reference estate's
    overview (bench/diagram.py: its total, and the split between loading and drawing)."""
    s = inputs.sizes
    dtopo = inputs.diagram_topology()
    svg = out_dir / "diagram.svg"
    diagram = best([*NETSEG, "diagram", str(dtopo), "-o", str(svg)], repeat)
    add(
        Figure(
            "diagram_one_host",
            f"netseg diagram (SVG) of one host with {s.diagram_guests} guests",
            "s",
            diagram.wall,
            target="<= 5 s",
        )
    )
    overview = diagram_bench.measure(NETSEG, inputs.topology(), out_dir, repeat)
    add(
        Figure(
            "diagram_overview_50k",
            f"netseg diagram (SVG overview) of {s.hosts:,} hosts, {s.guests:,} guests",
            "s",
            overview.wall,
            target="<= 10 s",
            note=f"(CPU {overview.cpu:.1f} s; CPU s per step: {overview.split()})",
        )
    )


def measure_capture_shapes(
    inputs: Inputs, out_dir: Path, add: Callable[[Figure], None], log: Callable[[str], None]
) -> None:
    """Each capture shape replayed (one worker, JSON) against tshark ``-q -z conv,ip`` on the
    same file in the same run, with netseg's frames/s and peak RSS; the short-conversation
    shape also with ``--all-conversations``, whose output is the largest."""
    rtopo = inputs.replay_topology()
    tshark = shutil.which("tshark")
    repeat = 2 if inputs.tag == "full" else 1
    log("capture shapes ...")
    for shape in CAPTURE_SHAPES:
        frames, conversations = inputs.shape_size(shape)
        cap = inputs.shape_capture(shape)
        warm(cap)
        out = out_dir / f"shape-{shape.name}.json"
        cmd = [*NETSEG, "replay", str(rtopo), str(cap), "--format", "json", "-o", str(out)]
        mine = best(cmd, repeat)
        judged = len(json.loads(out.read_text())["conversations"]) if out.exists() else 0
        what = f"{frames:,} frames over {conversations:,} conversations, {shape.what}"
        if tshark:
            t = run([tshark, "-r", str(cap), "-q", "-z", "conv,ip"], ok=(0,))
            add(
                Figure(
                    f"replay_shape_{shape.name}_vs_tshark",
                    f"wall time vs tshark -q -z conv,ip: {what}",
                    "s",
                    mine.wall,
                    t.wall,
                    "tshark",
                    t.wall / mine.wall,
                    ">= 10×",
                    note=f"({frames / mine.wall:,.0f} frames/s with start; tshark peak RSS "
                    f"{t.rss_mb:.0f} MB)",
                )
            )
        else:
            add(
                Figure(
                    f"replay_shape_{shape.name}_vs_tshark",
                    f"vs tshark: {what}",
                    "s",
                    mine.wall,
                    note="tshark not installed",
                )
            )
        add(
            Figure(
                f"replay_shape_{shape.name}_rss",
                f"peak RSS of netseg replay: {what}",
                "MB",
                mine.rss_mb,
                target="<= 400 MB",
                note=f"({judged:,} conversations judged)",
            )
        )
        if shape.name == "short":
            every = best([*cmd, "--all-conversations"], 1)
            add(
                Figure(
                    "replay_shape_short_all_conversations_rss",
                    f"peak RSS with --all-conversations --format json: {what}",
                    "MB",
                    every.rss_mb,
                    target="<= 400 MB",
                    note=f"({every.wall:.2f} s, {out.stat().st_size / 1e6:.0f} MB of JSON)",
                )
            )


def _cell(v: float | None) -> str:
    if v is None:
        return "-"
    if abs(v) >= 10_000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.2f}"


def table(figs: list[Figure]) -> str:
    rows = [("figure", "netseg", "peer", "ratio", "target", "met?")]
    for f in figs:
        met = "-" if f.met is None else ("yes" if f.met else "NO")
        peer = f"{_cell(f.peer)} ({f.peer_name})" if f.peer is not None else "-"
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "-"
        rows.append((f.name, f"{_cell(f.netseg)} {f.unit}", peer, ratio, f.target or "-", met))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def compile_bytecode() -> None:
    """Write netseg's bytecode before anything is timed, as installing a wheel does: with an
    editable install under ``PYTHONDONTWRITEBYTECODE=1`` (this machine sets it) every run
    would otherwise compile the modules it imports again (0.2-0.3 s of each replay's start)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "netseg")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small inputs (CI); figures meaningless")
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("NETSEG_BENCH_CACHE", Path.home() / ".cache" / "netseg-bench")),
        help="where generated inputs are kept (default ~/.cache/netseg-bench)",
    )
    ap.add_argument("--json", type=Path, help="figures file (default CACHE/results-MODE.json)")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--shapes-only", action="store_true", help="only the shape table")
    which.add_argument("--no-shapes", action="store_true", help="only the figures")
    which.add_argument(
        "--diagram-only", action="store_true", help="only the diagram figures (no shapes)"
    )
    ap.add_argument(
        "--shape",
        action="append",
        default=[],
        choices=shape_table.shapes.SHAPES,
        help="measure this shape only (repeatable; default every shape)",
    )
    ap.add_argument(
        "--shape-size",
        action="append",
        type=int,
        default=[],
        help="measure this size of each shape only (repeatable; e.g. 50000 or 5000)",
    )
    ap.add_argument(
        "--shape-cpu", type=int, default=300, help="CPU seconds allowed per shape run (300)"
    )
    ap.add_argument(
        "--shape-memory", type=int, default=6144, help="address space allowed per run, MB (6144)"
    )
    args = ap.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    inputs = Inputs(args.cache, sizes, args.quick)
    compile_bytecode()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    figs: list[Figure] = []
    rows: list[shape_table.ShapeRun] = []
    with tempfile.TemporaryDirectory(prefix="netseg-bench-") as tmp:
        if args.diagram_only:
            measure_diagrams(inputs, Path(tmp), lambda f: _add_to(figs, f, log), 1)
        elif not args.shapes_only:
            figs = measure(inputs, Path(tmp), log)
        if not args.no_shapes and not args.diagram_only:
            log("estate shapes ...")
            rows = shape_table.measure_shapes(
                NETSEG,
                args.cache,
                Path(tmp),
                log,
                quick=args.quick,
                only=args.shape,
                cpu_s=args.shape_cpu,
                mem_mb=args.shape_memory,
                sizes_only=args.shape_size,
                reach=not args.shape_size or 50_000 in args.shape_size,
            )
    if figs:
        print(table(figs))
    if rows:
        if figs:
            print()
        print(shape_table.table(rows))
    out = args.json or args.cache / f"results-{inputs.tag}.json"
    doc = {
        "mode": inputs.tag,
        "sizes": asdict(sizes),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "seconds": round(time.perf_counter() - started, 1),
        "figures": {f.name: asdict(f) for f in figs},
        "shapes": shape_table.as_json(rows),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nfigures written to {out}", file=sys.stderr)
    return 0
