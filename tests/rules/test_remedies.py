"""Every design rule of the catalogue has its remedies declared (or says why none can be)."""

from __future__ import annotations

from netseg.rules.catalogue import CATALOGUE
from netseg.rules.remedies import REMEDIES


def test_every_design_rule_has_a_remedy_entry() -> None:
    design = [r.id for r in CATALOGUE.values() if r.kind == "design"]
    assert sorted(REMEDIES) == sorted(design)


def test_a_rule_without_edits_says_why() -> None:
    for remedy in REMEDIES.values():
        assert (remedy.propose is None) == bool(remedy.reason), remedy.rule
        assert remedy.summary or remedy.reason
