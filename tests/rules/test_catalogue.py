"""The catalogue is the contract of rules.md: same ids, severities, references and kinds.

It is also the one declaration of each rule: findings, ``netseg rules``, SARIF's rule metadata
and docs/rules.md must all read it, and every rule needs a fires / stays-quiet case.
"""

from __future__ import annotations

import json
import re

import pytest

from netseg.analysis import analyse
from netseg.capture.replay import replay
from netseg.cli.main import main
from netseg.model.topology import Severity
from netseg.render.sarif import render_sarif
from netseg.rules.catalogue import (
    CATALOGUE,
    HARDENING_RULES,
    HELP,
    SEGMENTATION_RULES,
    help_text,
    render_rules_markdown,
)
from netseg.rules.finding import Finding
from netseg.topology import load
from tests.conftest import CAPTURES, REPO, SHARED, TOPOLOGIES, example_topologies

SPEC = SHARED / "spec" / "rules.md"
DOCS = REPO / "docs" / "rules.md"


def _spec_tables() -> dict[str, tuple[str, str, str, str]]:
    """rule id -> (severity, fires when, refs cell, section) from the spec's tables."""
    if not SPEC.is_file():
        pytest.skip("the shared spec (../shared/spec/rules.md) is not present")
    rows: dict[str, tuple[str, str, str, str]] = {}
    section = ""
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        m = re.match(r"^\| `([a-z0-9-]+)` \| (\w+) \| (.*?) \|(?: (.*?) \|)?$", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3), m.group(4) or "", section)
    return rows


def _split_refs(cell: str) -> tuple[str, ...]:
    """Split at the commas and semicolons between references, not those inside a parenthesis."""
    parts, depth, current = [], 0, ""
    for ch in cell:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch in ",;" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return tuple(parts)


def test_every_rule_of_the_spec_is_in_the_catalogue_and_nothing_else() -> None:
    assert set(_spec_tables()) == set(CATALOGUE)


def test_default_severities_and_conditions_are_the_specs() -> None:
    for rid, (sev, when, _refs, _section) in _spec_tables().items():
        assert CATALOGUE[rid].severity is Severity(sev), rid
        assert CATALOGUE[rid].fires_when == when, rid


def test_references_are_listed_as_the_spec_lists_them() -> None:
    for rid, (_sev, _when, refs, _section) in _spec_tables().items():
        expected = () if refs in ("", "—") else _split_refs(refs)
        assert CATALOGUE[rid].references == expected, rid


def test_kinds_and_tables_follow_the_spec_sections() -> None:
    for rid, (_sev, _when, _refs, section) in _spec_tables().items():
        if section.startswith("Configuration hardening"):
            assert rid in HARDENING_RULES
        elif section.startswith("Segmentation"):
            assert rid in SEGMENTATION_RULES
        assert CATALOGUE[rid].kind == ("capture" if rid.startswith("observed-") else "design")


def test_every_rule_has_a_title_and_help() -> None:
    for rid, info in CATALOGUE.items():
        assert info.title and not info.title.endswith(".")
        assert HELP[rid]
        assert info.fires_when in help_text(rid)


def test_docs_rules_md_is_current() -> None:
    current = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else ""
    assert current == render_rules_markdown(), (
        "docs/rules.md is stale; regenerate it with "
        "`.venv/bin/python -m netseg.rules.catalogue > docs/rules.md`"
    )


def test_every_rule_has_a_fires_and_a_stays_quiet_case() -> None:
    """The meta-test: a rule added to the catalogue without both cases fails here."""
    from tests.capture import test_capture_rules  # noqa: F401  (registers its cases)
    from tests.rules import test_segmentation
    from tests.rules.cases import COVERED
    from tests.rules.test_hardening import CASES

    covered = {rule: set(kinds) for rule, kinds in COVERED.items()}
    for rule in {c.rule for c in CASES} | set(test_segmentation.SEGMENTATION_CASES):
        covered.setdefault(rule, set()).update({"fires", "quiet"})
    missing = {
        rule: sorted({"fires", "quiet"} - covered.get(rule, set()))
        for rule in CATALOGUE
        if covered.get(rule, set()) != {"fires", "quiet"}
    }
    assert not missing, f"rules without a fires / stays-quiet case: {missing}"
    assert set(covered) <= set(CATALOGUE), "a case names a rule the catalogue does not have"


def _example_findings() -> list[Finding]:
    """Every finding netseg makes on the worked examples and the example captures."""
    found: list[Finding] = []
    for path in example_topologies():
        found += analyse(load(path)).findings
    topology = load(TOPOLOGIES / "esxi-cluster.yaml")
    for capture, at in (
        ("esxi-incident.pcap", "tor1:Eth1/11"),
        ("esxi-management.pcapng", "esx01/vSwitch0/Management Network"),
    ):
        found += replay(topology, [str(CAPTURES / capture)], at=at).findings
    return found


def test_every_finding_carries_its_rules_declared_severity_and_references() -> None:
    """Findings are made from the catalogue entry (one factory), never from a copy of it."""
    overrides = {
        path.stem: load(path).policy.severity
        for path in [*example_topologies(), TOPOLOGIES / "esxi-cluster.yaml"]
    }
    merged: dict[str, set[Severity]] = {}
    for table in overrides.values():
        for rule, level in table.items():
            merged.setdefault(rule, set()).add(level)
    findings = _example_findings()
    assert {f.rule for f in findings} >= {"guest-on-management-segment", "observed-rogue-dhcp"}
    for f in findings:
        info = CATALOGUE[f.rule]
        assert f.references == info.references, f.rule
        # a rule's own escalation (a claimed management address) or the topology's override
        allowed = {info.severity, Severity.CRITICAL, *merged.get(f.rule, set())}
        assert f.severity in allowed, (f.rule, f.severity)


def test_netseg_rules_prints_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    printed = {r["id"]: r for r in json.loads(capsys.readouterr().out)["rules"]}
    assert list(printed) == list(CATALOGUE)
    for rid, info in CATALOGUE.items():
        assert printed[rid] == {
            "id": rid,
            "severity": info.severity.value,
            "title": info.title,
            "fires_when": info.fires_when,
            "references": list(info.references),
            "kind": info.kind,
            "help": info.help,
        }


def test_sarif_rule_metadata_is_the_catalogue() -> None:
    topology = load(TOPOLOGIES / "esxi-cluster.yaml")
    log = json.loads(render_sarif(topology, list(analyse(topology).findings)))
    driver = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert list(driver) == list(CATALOGUE)
    for rid, info in CATALOGUE.items():
        entry = driver[rid]
        assert entry["shortDescription"]["text"] == info.title
        assert entry["properties"]["references"] == list(info.references)
        assert entry["properties"]["severity"] == info.severity.value
        assert info.help in entry["help"]["text"] and info.fires_when in entry["help"]["text"]


def test_the_management_segment_reference_is_the_catalogues() -> None:
    """The drift that motivated the registry: segmentation findings had their own table."""
    (f,) = {f.references for f in _example_findings() if f.rule == "guest-on-management-segment"}
    assert f == ('STIG ESXI-80-000198 ("no VMs on the management segment")',)


def test_every_design_rule_has_exactly_one_check() -> None:
    """The registry's other half: rule id -> check, one table per kind of design rule."""
    from netseg.rules.hardening import HARDENING
    from netseg.rules.segmentation import SEGMENTATION

    assert not set(HARDENING) & set(SEGMENTATION)
    assert list(SEGMENTATION) == list(SEGMENTATION_RULES)
    assert list(HARDENING) == list(HARDENING_RULES)
    design = [rid for rid, info in CATALOGUE.items() if info.kind == "design"]
    assert sorted({*HARDENING, *SEGMENTATION}) == sorted(design)
