"""Renderers: pure functions from results to text or bytes, one module per output format.

Findings render as text (people), JSON (programs; a stable contract), SARIF 2.1.0 (code
scanning) and JUnit XML (CI test reports). None of them does I/O or decides about colours or
exit codes: the CLI does.
"""

from __future__ import annotations

from netseg.rules.engine import severity_counts

#: The JSON/SARIF ``netseg`` version key: the version of the output contract.
OUTPUT_VERSION = "1.0.0"


__all__ = ["OUTPUT_VERSION", "severity_counts"]
