"""Options and output handling shared by the commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from netseg.model.topology import Severity
from netseg.output import write_output as _write

if TYPE_CHECKING:  # the capture package (numpy) only for the commands that read captures
    from netseg.capture.accounting import CaptureTables

SEVERITIES = [s.value for s in Severity]


def add_format(parser: argparse.ArgumentParser, formats: list[str]) -> None:
    parser.add_argument(
        "--format",
        choices=formats,
        default=None,
        help=f"output format (default: {formats[0]})",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically)")


def add_fail_on(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default="high",
        help="exit 1 when a finding at or above this severity is present (default: high)",
    )


def chosen_format(args: argparse.Namespace, default: str = "text") -> str:
    fmt: str | None = args.format
    return fmt if fmt is not None else default


def colour_enabled(stream: object = sys.stdout) -> bool:
    """Colours on a terminal only, never when piped or with NO_COLOR set."""
    if os.environ.get("NO_COLOR") is not None:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write_output(data: str | bytes | Iterable[str] | Iterable[bytes], output: str | None) -> None:
    """Write to standard output, or to ``output`` (see :mod:`netseg.output`: atomic for files,
    directly into FIFOs and devices, complete or an OutputError). ``data`` may be the
    renderers' iterator of text chunks (``iter_*``): each is encoded and written as it comes."""
    if isinstance(data, str | bytes):
        _write(data, output)
    else:
        _write(
            (chunk.encode("utf-8") if isinstance(chunk, str) else chunk for chunk in data), output
        )


def report_capture_files(tables: CaptureTables, given: list[str] | None = None) -> bool:
    """Say on standard error which captures could not be read (or only up to a corrupt
    record), which end cut short, and which given folders hold no capture; True when a
    capture could not be read to its end (the command then exits 2, its output still
    written)."""
    from netseg.capture.reader import capture_files  # numpy: only for capture commands

    unreadable = False
    for path in given or ():
        if path != "-" and os.path.isdir(path) and not capture_files([path]):
            print(f"{path}: a folder without capture files", file=sys.stderr)
    for account in tables.files:
        if account.error:
            print(f"{account.file}: {account.error}", file=sys.stderr)
            unreadable = True
            continue
        if account.damage:
            print(f"{account.file}: {account.damage}", file=sys.stderr)
            unreadable = True
        if account.warning:
            print(f"{account.file}: warning: {account.warning}", file=sys.stderr)
        if account.cut_short:
            print(
                f"{account.file}: warning: the last record is cut short; it is not counted",
                file=sys.stderr,
            )
    return unreadable
