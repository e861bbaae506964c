"""Findings as SARIF 2.1.0, for code-scanning services (GitHub, GitLab, Azure DevOps).

One run; the catalogue is ``tool.driver.rules`` (with help text, references and a
``security-severity`` GitHub uses to rank alerts); each finding is one result whose physical
location is the subject's line in the topology file, so the service annotates the YAML line.

Levels: ``error`` for critical/high, ``warning`` for medium, ``note`` for low/info, from the
finding's severity after the topology's overrides. Waived findings carry a suppression of kind
``external`` (the waiver lives in the topology's policy) with its reason. ``partialFingerprints``
are computed from (rule, subject, object), so an alert survives edits that move lines.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from netseg.model.topology import Severity, Topology
from netseg.render import OUTPUT_VERSION
from netseg.render.findings_json import chunked
from netseg.rules.catalogue import CATALOGUE, help_text
from netseg.rules.finding import Finding, RuleInfo

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/netseg/netseg"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

# GitHub code scanning ranks alerts by this CVSS-like score (9.0+ critical, 7.0+ high, 4.0+
# medium, 0.1+ low); info findings get the lowest score that still shows as "low".
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.1",
}


def artifact_uri(file: str, base: Path | None = None) -> str:
    """The topology's path as a relative URI (forward slashes, percent-encoded) when it lies
    under ``base`` (default: the current directory), else as a ``file://`` URI."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to((base or Path.cwd()).resolve())
        except ValueError:
            return path.as_uri()
    rel = PurePosixPath(*Path(os.path.normpath(path)).parts)
    return quote(str(rel), safe="/")


def _rule(info: RuleInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": "".join(part.capitalize() for part in info.id.split("-")),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": f"Fires when {info.fires_when}."},
        "help": {"text": help_text(info.id), "markdown": _help_markdown(info)},
        "defaultConfiguration": {"level": LEVELS[info.severity]},
        "properties": {
            "tags": ["security", "network-segmentation", info.kind],
            "references": list(info.references),
            "severity": info.severity.value,
            "security-severity": SECURITY_SEVERITY[info.severity],
        },
    }


def _help_markdown(info: RuleInfo) -> str:
    refs = "\n".join(f"- {r}" for r in info.references) or "- none"
    return (
        f"**{info.title}** (`{info.id}`, default severity {info.severity})\n\n"
        f"Fires when {info.fires_when}.\n\n**Fix:** {info.help}\n\n**References:**\n{refs}"
    )


def fingerprint(f: Finding) -> str:
    key = "\0".join(f.key)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _result(f: Finding, index: int | None, uris: dict[str, str]) -> dict[str, Any]:
    loc = f.location
    uri = uris[loc.file] if loc.line > 0 else uris[""]
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if loc.line > 0:
        physical["region"] = {"startLine": loc.line, "startColumn": max(loc.column, 1)}
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "level": LEVELS[f.severity],
        "message": {"text": f.message},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [{"fullyQualifiedName": f.subject, "kind": "member"}],
            }
        ],
        "partialFingerprints": {"netsegFindingKey/v1": fingerprint(f)},
        "properties": {
            "severity": f.severity.value,
            "subject": f.subject,
            "object": f.object,
            "evidence": dict(f.evidence),
            "references": list(f.references),
        },
    }
    opening = f.evidence.get("opening")
    if isinstance(opening, dict) and opening.get("line"):
        # the element a change would close (rules.md, "Grain"), beside the subject's line
        result["relatedLocations"] = [
            {
                "id": 1,
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": uris.get(opening.get("file", ""), uris[""]),
                        "uriBaseId": "%SRCROOT%",
                    },
                    "region": {"startLine": opening["line"]},
                },
                "message": {"text": f"opened by {opening['ref']}"},
            }
        ]
    if index is not None:
        result["ruleIndex"] = index
    if f.waived:
        result["suppressions"] = [{"kind": "external", "justification": f.waiver_why}]
    return result


def sarif_document(
    topology: Topology, findings: Sequence[Finding], base: Path | None = None
) -> dict[str, Any]:
    rules = list(CATALOGUE.values())
    index = {r.id: i for i, r in enumerate(rules)}
    topology_uri = artifact_uri(topology.file, base)
    uris = _uris(topology, findings, base)
    return _document(topology, topology_uri, rules, index, uris, findings)


def _uris(topology: Topology, findings: Sequence[Finding], base: Path | None) -> dict[str, str]:
    # one URI per file, not per finding: resolving paths dominates on large estates
    uris = {"": artifact_uri(topology.file, base)}
    for f in findings:
        if f.location.file not in uris:
            uris[f.location.file] = artifact_uri(f.location.file, base)
        opening = f.evidence.get("opening")
        if isinstance(opening, dict) and opening.get("file") and opening["file"] not in uris:
            uris[opening["file"]] = artifact_uri(opening["file"], base)
    return uris


def _document(
    topology: Topology,
    topology_uri: str,
    rules: list[RuleInfo],
    index: dict[str, int],
    uris: dict[str, str],
    findings: Sequence[Finding],
) -> dict[str, Any]:
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "netseg",
                        "version": OUTPUT_VERSION,
                        "semanticVersion": OUTPUT_VERSION,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "originalUriBaseIds": {
                    "%SRCROOT%": {"description": {"text": "the repository root"}}
                },
                "artifacts": [
                    {
                        "location": {"uri": topology_uri, "uriBaseId": "%SRCROOT%"},
                        "roles": ["analysisTarget"],
                    }
                ],
                "automationDetails": {"id": f"netseg/{topology.name}/"},
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index.get(f.rule), uris) for f in findings],
            }
        ],
    }


def render_sarif(topology: Topology, findings: Sequence[Finding], base: Path | None = None) -> str:
    """``netseg check --format sarif``. ``base`` is the directory URIs are relative to.

    Written compact (no indentation): SARIF is read by services that limit upload sizes, and
    Python's JSON encoder is several times faster without indentation on large estates.
    """
    return "".join(iter_sarif(topology, findings, base))


def iter_sarif(
    topology: Topology, findings: Sequence[Finding], base: Path | None = None
) -> Iterator[str]:
    """:func:`render_sarif` in chunks: each result encoded as it is written."""
    doc = sarif_document(topology, [], base)
    uris = _uris(topology, findings, base)
    index = {r.id: i for i, r in enumerate(CATALOGUE.values())}
    doc["runs"][0]["results"] = [0]
    text = json.dumps(doc, ensure_ascii=False, default=str, separators=(",", ":"))
    head, _, tail = text.partition('"results":[0]')

    def pieces() -> Iterator[str]:
        sep = head + '"results":['
        for f in findings:
            yield sep + json.dumps(
                _result(f, index.get(f.rule), uris),
                ensure_ascii=False,
                default=str,
                separators=(",", ":"),
            )
            sep = ","
        yield (sep if sep != "," else "") + "]" + tail + "\n"

    return chunked(pieces())


__all__ = [
    "LEVELS",
    "artifact_uri",
    "fingerprint",
    "iter_sarif",
    "render_sarif",
    "sarif_document",
]
