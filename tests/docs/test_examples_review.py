"""topologies/README.md and docs/gallery.md state netseg's findings on the worked examples:
they are checked against `netseg check` here, so they cannot go stale."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

import netseg
from netseg.analysis import analyse
from tests.conftest import REPO, TOPOLOGIES, example_topologies
from tests.docs.examples_review import differences, findings_rows, sections, table_rows

README = TOPOLOGIES / "README.md"
GALLERY = REPO / "docs" / "gallery.md"


def _summary(path: Path) -> str:
    analysis = analyse(netseg.load(path))
    line = ", ".join(f"{n} {sev}" for sev, n in analysis.summary().items())
    waived = sum(1 for f in analysis.findings if f.waived)
    return line + (f"; {waived} waived" if waived else "")


@pytest.mark.parametrize("example", example_topologies(), ids=lambda p: p.stem)
def test_the_expected_review_is_netsegs_finding_for_finding(example: Path) -> None:
    text = README.read_text()
    section = sections(text)[example.stem]
    allowed = {(rule, subject) for name, rule, subject in differences(text) if name == example.stem}

    def judged(rows: Counter[tuple[str, str, str, str | None, bool]]) -> Counter[object]:
        return Counter({r: n for r, n in rows.items() if (r[1], r[2]) not in allowed})

    assert judged(table_rows(section)) == judged(findings_rows(example))
    stated = re.findall(r"^Summary as `netseg check` prints it: (.+)\.$", section, flags=re.M)
    assert stated == [_summary(example)]


def test_the_examples_table_gives_the_critical_and_high_counts() -> None:
    rows = {
        m.group(1): m.group(2).strip()
        for m in re.finditer(
            r"^\| \[(\S+)\.yaml\]\(\S+\) \|.*\| ([^|]+) \|$", README.read_text(), re.M
        )
    }
    for example in example_topologies():
        counts = analyse(netseg.load(example)).summary()
        worst = [f"{counts[s]} {s}" for s in ("critical", "high") if counts[s]]
        assert rows[example.stem] == (", ".join(worst) or "no finding"), example.stem


def test_the_gallery_gives_each_examples_counts() -> None:
    stated = dict(
        re.findall(
            r"^Source: \[`topologies/(\S+)\.yaml`\].* · findings: (.+)$", GALLERY.read_text(), re.M
        )
    )
    for example in example_topologies():
        counts = analyse(netseg.load(example)).summary()
        expected = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n) or "none"
        assert stated[example.stem] == expected, example.stem
