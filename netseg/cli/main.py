"""``netseg`` entry point: finds the command modules, parses arguments, maps errors to exit
codes.

Each command lives in ``netseg/cli/cmd_<name>.py`` and exposes ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Exit codes: 0 ran clean, 1 findings at or
above ``--fail-on``, 2 usage, input or output error (never a traceback), 3 netseg itself
failed (an unexpected exception, out of memory): one line saying so, never read as findings.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from netseg import __version__
from netseg.collector import collector_paused
from netseg.errors import NetsegError, TopologyError
from netseg.output import check_writable

COMMANDS = (
    "validate",
    "check",
    "reach",
    "replay",
    "diagram",
    "report",
    "diff",
    "import",
    "fix",
    "schema",
    "rules",
)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


def _command_modules(only: str | None = None) -> dict[str, ModuleType]:
    found = {}
    for name in COMMANDS if only is None else (only,):
        modname = f"netseg.cli.cmd_{name}"
        if importlib.util.find_spec(modname) is not None:
            found[name] = importlib.import_module(modname)
    return found


def _chosen(argv: Sequence[str]) -> str | None:
    """The command named on the command line (the top level has no option taking a value, so
    it is the first word that is not an option), or None: then every command is loaded, for
    the list of commands in the help and in the message about an unknown one."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments, only the command they name is imported (a command
    imports only what it uses: `netseg --version` and a replay start without the others)."""
    parser = _Parser(
        prog="netseg",
        description="Virtual-network segmentation analyser for Xen, ESXi and Hyper-V: who can "
        "reach the privileged domain, in the design and in real traffic.",
    )
    parser.add_argument("--version", action="version", version=f"netseg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    only = None
    if argv is not None:
        only = _chosen(argv)
        if only is None and argv and argv[0] == "--version":
            return parser  # prints the version and exits, with no command needed
    for name, module in _command_modules(only).items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A closed pipe (`netseg reach T --format jsonl | head`) is an output error like a full
    # disk (netseg.output: one message, exit 2), not a silent death by SIGPIPE: Python's own
    # SIGPIPE disposition (ignored) is kept, so the write fails with EPIPE.
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words)
    args = parser.parse_args(words)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    try:
        # Every command loads, analyses and renders long-lived objects and then exits: the
        # cyclic collector would only rescan them (about 1.5 s of check on 50,000 guests).
        # outputs are checked before any work: hours of replay do not end on a missing folder
        for name in ("output", "evidence"):
            check_writable(getattr(args, name, None))
        with collector_paused():
            code: int = args._run(args)
        return code
    except TopologyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INPUT
    except NetsegError as exc:
        print(f"netseg: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("netseg: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        _internal("out of memory")
        return EXIT_INTERNAL
    except Exception as exc:  # a bug: one line, and an exit code CI cannot read as findings
        _internal(f"{type(exc).__name__}: {exc}")
        return EXIT_INTERNAL


def _internal(what: str) -> None:
    first = what.splitlines()[0] if what else ""
    try:
        print(
            f"netseg: internal error: netseg itself failed ({first}); this is a bug in netseg, "
            "not a finding: please report it with the command line (NETSEG_DEBUG=1 shows the "
            "traceback)",
            file=sys.stderr,
        )
        if os.environ.get("NETSEG_DEBUG"):
            traceback.print_exc()
    except Exception:
        pass


if __name__ == "__main__":
    sys.exit(main())
