"""Findings as JSON: the stable shape of cli-and-outputs.md ("JSON shapes", ``check``).

Keys are a contract: adding is fine, renaming is not. Beyond the contract, a waived finding
carries ``why`` (the waiver's reason) and the document carries ``waived`` (how many).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from netseg.model.topology import Topology
from netseg.render import OUTPUT_VERSION, severity_counts
from netseg.rules.finding import Finding


def finding_to_json(f: Finding) -> dict[str, Any]:
    """One finding as a JSON-ready mapping (shared by ``check``, ``replay`` and ``diff``)."""
    out: dict[str, Any] = {
        "rule": f.rule,
        "severity": f.severity.value,
        "message": f.message,
        "subject": f.subject,
        "object": f.object,
        "location": {
            "file": f.location.file,
            "line": f.location.line,
            "column": f.location.column,
        },
        "references": list(f.references),
        "waived": f.waived,
        "evidence": dict(f.evidence),
    }
    if f.waived:
        out["why"] = f.waiver_why
    return out


def topology_to_json(topology: Topology) -> dict[str, str]:
    return {"name": topology.name, "file": topology.file}


def check_document(topology: Topology, findings: Sequence[Finding]) -> dict[str, Any]:
    return {
        "netseg": OUTPUT_VERSION,
        "topology": topology_to_json(topology),
        "summary": severity_counts(findings),
        "waived": sum(1 for f in findings if f.waived),
        "findings": [finding_to_json(f) for f in findings],
    }


def render_json(topology: Topology, findings: Sequence[Finding]) -> str:
    """``netseg check --format json``: one document, keys in contract order, newline-ended."""
    return (
        json.dumps(check_document(topology, findings), indent=2, ensure_ascii=False, default=str)
        + "\n"
    )


__all__ = ["check_document", "finding_to_json", "render_json", "topology_to_json"]
