"""Renderers: pure functions from results to text or bytes, one module per output format.

Findings render as text (people), JSON (programs; a stable contract), SARIF 2.1.0 (code
scanning) and JUnit XML (CI test reports). None of them does I/O or decides about colours or
exit codes: the CLI does.
"""

from __future__ import annotations

from collections.abc import Iterable

from netseg.model.topology import Severity
from netseg.rules.finding import Finding

#: The JSON/SARIF ``netseg`` version key: the version of the output contract.
OUTPUT_VERSION = "1.0.0"


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Unwaived findings per severity, every severity present, worst first.

    Waived findings are accepted risks: they are listed, but they are not counted here, so a
    summary says what still needs attention (the number waived is reported beside it).
    """
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        if not f.waived:
            counts[f.severity.value] += 1
    return counts


__all__ = ["OUTPUT_VERSION", "severity_counts"]
