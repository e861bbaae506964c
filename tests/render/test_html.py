"""The HTML report: self-contained (nothing fetched), escaped, with every section a review
needs, and the capture section when a replay is given."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import netseg
from netseg.analysis import analyse
from netseg.render.html import render_report
from tests.conftest import TOPOLOGIES, example_topologies
from tests.render.diagram_sample import mixed

SVG = '<svg width="10pt" height="10pt"><g class="node"><title>x</title></g></svg>'
REPLAY: dict[str, Any] = {
    "files": [
        {
            "file": "captures/incident.pcap",
            "frames": 1000,
            "decoded": 998,
            "undecodable": {"truncated": 2},
            "unsupported": {},
        }
    ],
    "totals": {
        "frames": 1000,
        "decoded": 998,
        "undecodable": 2,
        "unsupported": 0,
        "conversations": 41,
    },
    "conversations": [
        {
            "vlan": 10,
            "src": "guest:web01/nic0",
            "dst": "management:esx01/vmk0",
            "src_addr": "198.51.100.21",
            "dst_addr": "203.0.113.11",
            "service": "tcp/22",
            "frames": [12, 10],
            "bytes": [1500, 4200],
            "sample_frames": [{"file": "captures/incident.pcap", "frame": 17}],
            "answered": True,
            "verdict": "violation",
            "rules": ["observed-guest-to-management"],
        },
        {
            "vlan": 10,
            "src": "guest:a/nic0",
            "dst": "guest:b/nic0",
            "verdict": "allowed",
            "sample_frames": [{"file": "captures/incident.pcap", "frame": 999}],
        },
    ],
}


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            if k == "id" and v:
                self.ids.add(v)
            if k in ("src", "href", "xlink:href", "action", "poster", "data", "srcset") and v:
                self.urls.append((tag, k, v))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def report(topology: netseg.Topology | None = None, **kw: Any) -> str:
    topology = topology or mixed()
    analysis = analyse(topology)
    return render_report(topology, analysis, kw.pop("svg", SVG), **kw)


def parse(page: str) -> Collect:
    c = Collect()
    c.feed(page)
    c.close()
    return c


def test_report_fetches_nothing() -> None:
    page = report(replay=REPLAY)
    c = parse(page)
    for tag, attr, url in c.urls:
        assert url.startswith("#"), f"<{tag} {attr}={url!r}> points outside the page"
    low = page.lower()
    assert "http://" not in low and "https://" not in low and "url(" not in low
    assert "@import" not in low and "<link" not in low
    assert not [t for t in c.tags if t in ("img", "iframe", "object", "embed", "link")]


def test_report_has_every_section() -> None:
    c = parse(report())
    for section in ("summary", "findings", "findings-table", "matrix", "zone-matrix", "diagram"):
        assert section in c.ids
    assert "svg" in c.tags
    assert "captures" not in c.ids  # no replay given


def test_summary_counts_unwaived_findings_by_severity() -> None:
    topology = mixed()
    analysis = analyse(topology)
    page = render_report(topology, analysis, SVG)
    for sev, n in analysis.summary().items():
        assert f'<div class="card sev-{sev}"><span class="n">{n}</span>' in page
    assert f"{len(analysis.waived)} waived finding" in page


def test_every_finding_is_a_filterable_row() -> None:
    topology = mixed()
    analysis = analyse(topology)
    page = render_report(topology, analysis, SVG)
    assert page.count("<tr data-severity=") == len(analysis.findings)
    assert page.count('data-waived="1"') == len(analysis.waived) > 0
    for rule in {f.rule for f in analysis.findings}:
        assert f'<option value="{rule}">' in page


def test_user_input_is_escaped() -> None:
    page = report()
    assert "<b>&amp;" not in page  # a guest named 'web02 <b>&amp;'
    assert "web02 &lt;b&gt;&amp;amp;" in page
    assert "mixed &quot;lab&quot; &lt;&amp;&gt;" in page
    hostile = netseg.loads(
        'netseg: 1\nname: "</title><script>alert(1)</script>"\nhosts: []\n', file="x.yaml"
    )
    page = report(hostile)
    assert "<script>alert(1)</script>" not in page
    assert parse(page).tags.count("script") == 2  # ours only


def test_zone_matrix_marks_violating_intended_and_unreachable() -> None:
    topology = mixed()
    analysis = analyse(topology)
    zones, cells = analysis.zone_matrix
    state = {(c.source, c.destination): c.state for c in cells}
    assert len(cells) == len(zones) ** 2
    assert state[("web", "management")] == "violating"  # guest-reaches-management
    assert state[("admin", "management")] == "violating"  # more than tcp/443 gets through
    by = {(c.source, c.destination): c for c in cells}
    assert by[("admin", "management")].intended.items() == ["tcp/443"]
    assert state[("db", "db")] in ("intended", "intended-unreachable")
    assert "unreachable" in state.values() or "intended-unreachable" in state.values()


@pytest.mark.parametrize("example", example_topologies(), ids=lambda p: p.stem)
def test_zone_matrix_violations_are_exactly_the_findings(example: Path) -> None:
    """A cell is "violating" exactly where a zone-policy-violation (or, toward management, a
    guest-reaches-management) finding says a member of the row's zone reaches the column's
    beyond the policy: guests that receive every VLAN (an IDS sensor on a trunk, a
    transparent bridge) are destinations like any other (rules.md has no exception)."""
    topology = netseg.load(example)
    analysis = analyse(topology)
    _zones, cells = analysis.zone_matrix
    zone_of = {a.ref: a.zone for a in analysis.reachability.attachments}
    violating = {(c.source, c.destination) for c in cells if c.state == "violating"}
    found = set()
    for f in analysis.findings:
        if f.rule == "zone-policy-violation":
            found.add((zone_of[f.subject], (f.object or "").removeprefix("zone:")))
        elif f.rule == "guest-reaches-management":
            found.add((zone_of[f.subject], zone_of[f.object or ""]))
    assert violating == found


def test_guests_reaching_a_sensor_that_taps_every_vlan_are_findings() -> None:
    topology = netseg.load(TOPOLOGIES / "esxi-cluster.yaml")
    towards = {
        f.subject
        for f in analyse(topology).findings
        if f.rule == "zone-policy-violation" and f.object == "zone:security"
    }
    assert {"guest:backup01/nic0", "guest:web01/nic0", "guest:db01/nic0"} <= towards


def test_report_without_graphviz_says_so() -> None:
    page = report(svg=None)
    assert "No diagram" in page and "<svg" not in page


def test_capture_section_lists_accounting_and_violating_frames() -> None:
    page = report(replay=REPLAY)
    c = parse(page)
    assert {"captures", "capture-files", "capture-violations"} <= c.ids
    assert "captures/incident.pcap #17" in page
    assert "truncated: 2" in page
    assert "#999" not in page  # allowed conversations are not listed
    assert "observed-guest-to-management" in page


def test_print_stylesheet_hides_controls() -> None:
    page = report()
    assert "@media print" in page
    media = page.split("@media print", 1)[1]
    assert ".filters" in media and "display:none" in media
