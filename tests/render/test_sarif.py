"""SARIF 2.1.0: valid against the real schema, one result per finding, code-scanning ready."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import netseg
from netseg.analysis import analyse
from netseg.model.topology import Location
from netseg.render.sarif import artifact_uri, render_sarif
from netseg.rules.catalogue import CATALOGUE
from tests.conftest import DATA, REPO, example_topologies
from tests.render.sample import sample

SCHEMA = json.loads((DATA / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def _sarif(file: str = "topologies/sample.yaml") -> dict[str, Any]:
    a = sample(file)
    doc: dict[str, Any] = json.loads(render_sarif(a.topology, a.findings))
    return doc


def test_valid_against_the_sarif_2_1_0_schema() -> None:
    doc = _sarif()
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schema_catches_a_broken_log() -> None:
    doc = _sarif()
    doc["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft4Validator)


def test_driver_lists_the_catalogue_and_results_point_into_it() -> None:
    run = _sarif()["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "netseg" and driver["version"] == "1.0.0"
    assert driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(CATALOGUE)
    trunking = rules[[r["id"] for r in rules].index("guest-vlan-trunking")]
    assert trunking["defaultConfiguration"]["level"] == "warning"
    assert trunking["properties"]["references"] == ["STIG ESXI-80-000220"]
    assert "Fix:" in trunking["help"]["text"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_levels_follow_the_effective_severity() -> None:
    results = _sarif()["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("passthrough-without-iommu", "error"),
        ("management-firewall-missing", "error"),
        ("guest-vlan-trunking", "warning"),
        ("native-vlan-1", "note"),
    ]


def test_results_annotate_the_yaml_line() -> None:
    (first, *_rest) = _sarif()["runs"][0]["results"]
    physical = first["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "topologies/sample.yaml"
    assert physical["region"] == {"startLine": 29, "startColumn": 5}


def test_waived_findings_are_suppressed_with_the_reason() -> None:
    results = _sarif()["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert [r["ruleId"] for r in suppressed] == ["guest-vlan-trunking"]
    assert suppressed[0]["suppressions"] == [
        {"kind": "external", "justification": "IDS sensor, ticket SEC-1234"}
    ]


def test_fingerprints_survive_moved_lines_and_differ_between_findings() -> None:
    a = sample()
    moved = sample()
    shifted = [
        replace(f, location=Location(f.location.file, f.location.line + 7, 1)) for f in moved
    ]
    one = json.loads(render_sarif(a.topology, a.findings))["runs"][0]["results"]
    two = json.loads(render_sarif(a.topology, shifted))["runs"][0]["results"]
    prints = [r["partialFingerprints"] for r in one]
    assert prints == [r["partialFingerprints"] for r in two]
    assert len({json.dumps(p) for p in prints}) == len(prints)


def test_artifact_uri_is_relative_and_encoded(tmp_path: Path) -> None:
    assert artifact_uri("topologies/my prod.yaml") == "topologies/my%20prod.yaml"
    assert artifact_uri("./topologies/../t.yaml") == "t.yaml"
    inside = tmp_path / "topologies" / "t.yaml"
    assert artifact_uri(str(inside), base=tmp_path) == "topologies/t.yaml"
    assert artifact_uri("/elsewhere/t.yaml", base=tmp_path) == "file:///elsewhere/t.yaml"


@pytest.mark.parametrize("path", example_topologies(), ids=lambda p: p.stem)
def test_every_example_topology_gives_valid_sarif(path: Path) -> None:
    a = analyse(netseg.load(path))
    doc = json.loads(render_sarif(a.topology, a.findings, base=REPO))
    errors = list(jsonschema.Draft4Validator(SCHEMA).iter_errors(doc))
    assert not errors, errors[0].message
    results = doc["runs"][0]["results"]
    assert len(results) == len(a.findings)
    for r in results:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("topologies/") and (REPO / uri).is_file()
