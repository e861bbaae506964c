"""What every ``bench.import_<source>`` script measures: one import of a generated estate,
timed in wall-clock and CPU seconds (the machines are shared: CPU is the comparable figure),
and the process's peak RSS."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from netseg.importers import ImportRequest, ImportResult, run_import


@dataclass(frozen=True)
class TimedImport:
    result: ImportResult
    seconds: float
    cpu: float


def timed_import(
    source: str,
    inputs: Iterable[str],
    options: Mapping[str, Any] | None = None,
    name: str = "bench",
) -> TimedImport:
    """Import as ``netseg import SOURCE … --format json`` does, checked by the loader."""
    request = ImportRequest(tuple(inputs), options or {})
    started, cpu = time.perf_counter(), time.process_time()
    result = run_import(source, request, name=name, json_form=True)
    return TimedImport(result, time.perf_counter() - started, time.process_time() - cpu)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summary(source: str, timed: TimedImport, generated: float) -> str:
    """The one line an import benchmark prints: counts, warnings, times and peak RSS."""
    result = timed.result
    return (
        f"import {source}: {result.counts['hosts']} hosts, {result.counts['guests']} guests, "
        f"{len(result.warnings)} warnings in {timed.seconds:.1f} s ({timed.cpu:.1f} s CPU; "
        f"generated in {generated:.1f} s), peak RSS {peak_rss_mib():.0f} MiB"
    )
