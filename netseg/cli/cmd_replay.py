"""``netseg replay TOPOLOGY CAPTURE…``: judge real traffic against the intended segmentation."""

from __future__ import annotations

import argparse
import sys
import time

from netseg.capture.parallel import start_tabulation
from netseg.cli.common import (
    add_fail_on,
    add_format,
    chosen_format,
    colour_enabled,
    report_capture_files,
    write_output,
)

HELP = "replay packet captures: attribute every frame, judge each conversation, show the frames"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", metavar="TOPOLOGY")
    parser.add_argument(
        "captures", nargs="+", metavar="CAPTURE", help="pcap/pcapng files (.gz too) or directories"
    )
    parser.add_argument(
        "--at",
        metavar="POINT",
        help="capture point: SWITCH:PORT, HOST/NIC, HOST/VSWITCH/PORTGROUP or HOST/VSWITCH",
    )
    parser.add_argument(
        "--vlan", type=int, metavar="N", help="with --at HOST/VSWITCH: the VLAN of untagged frames"
    )
    parser.add_argument(
        "--evidence",
        metavar="FILE.pcapng",
        help="write the frames of violating conversations, with comments",
    )
    parser.add_argument(
        "--all-conversations",
        action="store_true",
        help="list every conversation, not only violating and unattributed ones",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes: files, and chunks of large files, are split between them; "
        "reading starts while the topology loads",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="read on a Dask cluster (tcp://host:port of its scheduler; needs the netseg-hv[cluster] extra); "
        "the capture paths must be visible on every worker",
    )
    add_format(parser, ["text", "json"])
    add_fail_on(parser)


class _Progress:
    """Frames, rate and elapsed time on a terminal's standard error; nothing otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.frames = 0
        self.start = time.monotonic()
        self.last = 0.0

    def __call__(self, frames: int) -> None:
        self.frames += frames
        now = time.monotonic()
        if self.enabled and now - self.last > 0.2:
            self.last = now
            rate = self.frames / max(now - self.start, 1e-6)
            sys.stderr.write(
                f"\r{self.frames:,} frames  {rate:,.0f} frames/s  {now - self.start:.1f} s"
            )
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.last:
            sys.stderr.write("\r" + " " * 60 + "\r")


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        print("netseg: --workers must be at least 1", file=sys.stderr)
        return 2
    # Reading starts first (on workers or a cluster), so it overlaps loading the topology.
    with start_tabulation(args.captures, args.workers, scheduler=args.scheduler) as pending:
        # imported once the reading has started: their imports overlap it too
        from netseg.analysis import load
        from netseg.capture.replay import replay, write_evidence_file
        from netseg.render.replay import iter_replay_json, render_replay_text

        topology = load(args.topology)
        progress = _Progress()
        result = replay(
            topology,
            args.captures,
            args.at,
            args.vlan,
            args.workers,
            progress=progress,
            tables=pending,
        )
        progress.done()
    unreadable = report_capture_files(result.tables, args.captures)
    if args.evidence:
        count = write_evidence_file(result, args.evidence)
        print(f"evidence: {count} frames written to {args.evidence}", file=sys.stderr)
    if chosen_format(args) == "json":
        write_output(iter_replay_json(result, args.all_conversations), args.output)
    else:
        colour = args.output is None and colour_enabled(sys.stdout)
        write_output(render_replay_text(result, colour, args.fail_on), args.output)
    if unreadable or result.nothing_judged() is not None:
        # nothing judged is never a pass; an input that could not be read is an input error
        return 2
    return 1 if result.failing(args.fail_on) else 0
