"""netseg's one exception tree. Every error a user can cause is a :class:`NetsegError`.

::

    NetsegError
    ├── TopologyError        the topology file is unreadable or invalid (carries every Problem)
    ├── CaptureError         a capture file cannot be read at all
    ├── SelectorError        a --from/--to/--host selector or capture point matches nothing
    ├── RenderError          an output cannot be produced (e.g. Graphviz `dot` missing)
    ├── ImportSourceError    an export given to `netseg import` is not what its source reads
    ├── OutputError          an output (-o, --evidence, standard output) cannot be written
    └── SchedulerError       a Dask scheduler (--scheduler) cannot be used or reached

The CLI turns each into one clear message per problem and exit code 2; anything else is a
bug in netseg, reported as such in one line with exit code 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a topology file: where, which key path, what."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class NetsegError(Exception):
    """Base of every error netseg raises on bad input."""


class TopologyError(NetsegError):
    """A topology could not be loaded; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CaptureError(NetsegError):
    """A capture file cannot be read (not a capture, unreadable, unsupported container)."""

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.message = message
        super().__init__(f"{file}: {message}")


class SelectorError(NetsegError):
    """A selector or capture point names nothing in the topology."""


class RenderError(NetsegError):
    """An output format cannot be produced on this machine."""


class ImportSourceError(NetsegError):
    """An input of ``netseg import`` is not what its source reads (a workbook without the
    networking tabs, a configuration in an unknown dialect, a truncated dump, an unreachable
    server): where (file, and sheet/row or line when known) and what was expected."""

    def __init__(self, file: str, message: str, where: str | int | None = None) -> None:
        self.file = file
        self.where = where
        self.message = message
        place = f"{file}:{where}" if where not in (None, "") else file
        super().__init__(f"{place}: {message}")


class OutputError(NetsegError):
    """An output cannot be written (a missing or read-only folder, a directory, a short or
    failed write); nothing half-written is left behind."""

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.message = message
        super().__init__(f"{file}: {message}")


class SchedulerError(NetsegError):
    """Replay on a Dask cluster is impossible: Dask is not installed, or the scheduler is
    unreachable."""
