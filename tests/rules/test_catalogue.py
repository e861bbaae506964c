"""The catalogue is the contract of rules.md: same ids, severities, references and kinds."""

from __future__ import annotations

import re

import pytest

from netseg.model.topology import Severity
from netseg.rules.catalogue import (
    CATALOGUE,
    HARDENING_RULES,
    HELP,
    SEGMENTATION_RULES,
    help_text,
    render_rules_markdown,
)
from tests.conftest import REPO, SHARED

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
