"""Severity overrides and waivers: a waiver hides nothing, it marks; an override re-ranks."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import netseg
from netseg.analysis import Analysis, analyse
from netseg.model.topology import Severity

BASE = """\
netseg: 1
name: policy
zones:
  web: {{}}
  db: {{}}
policy:
{policy}
hosts:
  - name: hv01
    hypervisor: hyperv
    firewall: {{default: deny}}
    nics:
      - {{name: NIC1}}
    vswitches:
      - {{name: External, type: external, uplinks: [NIC1]}}
  - name: hv02
    hypervisor: hyperv
    firewall: {{default: deny}}
    nics:
      - {{name: NIC1}}
    vswitches:
      - {{name: External, type: external, uplinks: [NIC1]}}
guests:
  - {{name: web01, host: hv01, zone: web, nics: [{{vswitch: External, vlan: 10}}]}}
  - {{name: web02, host: hv02, zone: web, nics: [{{vswitch: External, vlan: 10}}]}}
  - {{name: db01, host: hv02, zone: db, nics: [{{vswitch: External, vlan: 20}}]}}
"""


def run(*waivers: tuple[str, str], severity: dict[str, str] | None = None) -> Analysis:
    lines = []
    if severity:
        lines.append("  severity:")
        lines += [f"    {rule}: {level}" for rule, level in severity.items()]
    if waivers:
        lines.append("  waivers:")
        lines += [
            f"    - {{rule: {rule}, subject: {json.dumps(subject)}, why: accepted}}"
            for rule, subject in waivers
        ]
    policy = "\n".join(lines) or "  intra_zone: allow"
    return analyse(netseg.loads(BASE.format(policy=policy), file="p.yaml"))


PLAIN = run()
GUARD_FINDINGS = [(f.rule, f.subject) for f in PLAIN.findings if f.rule.endswith("-guard-off")]


def keys(a: Analysis) -> list[tuple[str, str, str | None]]:
    return sorted(f.key for f in a.findings)


def test_the_base_design_has_guard_findings_on_every_guest_nic() -> None:
    assert len(GUARD_FINDINGS) == 6  # dhcp and router guard on three NICs


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(GUARD_FINDINGS), unique=True))
def test_a_waiver_hides_nothing_and_marks_exactly_its_subject(
    waivers: list[tuple[str, str]],
) -> None:
    a = run(*waivers)
    assert keys(a) == keys(PLAIN)
    assert {(f.rule, f.subject) for f in a.findings if f.waived} == set(waivers)
    assert all(f.waiver_why == "accepted" for f in a.waived)
    assert len(a.active) == len(PLAIN.findings) - len(waivers)


def test_zone_and_host_selectors_waive_everything_inside() -> None:
    by_zone = run(("dhcp-guard-off", "zone:web"))
    assert {f.subject for f in by_zone.waived} == {"guest:web01/nic0", "guest:web02/nic0"}
    by_host = run(("router-guard-off", "host:hv02"))
    assert {f.subject for f in by_host.waived} == {"guest:web02/nic0", "guest:db01/nic0"}
    by_guest = run(("router-guard-off", "guest:db01"))
    assert {f.subject for f in by_guest.waived} == {"guest:db01/nic0"}


def test_a_waiver_names_one_rule_only() -> None:
    a = run(("dhcp-guard-off", "guest:web01/nic0"))
    router = [f for f in a.findings if f.rule == "router-guard-off" and "web01" in f.subject]
    assert router and not router[0].waived


def test_waived_findings_never_fail_a_run() -> None:
    a = run(
        ("dhcp-guard-off", "host:hv01"),
        ("dhcp-guard-off", "host:hv02"),
        severity={"dhcp-guard-off": "critical"},
    )
    assert a.by_rule("dhcp-guard-off") and all(f.waived for f in a.by_rule("dhcp-guard-off"))
    assert not any(f.rule == "dhcp-guard-off" for f in a.failing(Severity.CRITICAL))
    assert a.summary()["critical"] == 0


def test_an_override_changes_severity_and_order() -> None:
    a = run(severity={"router-guard-off": "high", "upstream-unmodelled": "low"})
    assert {f.severity for f in a.by_rule("router-guard-off")} == {Severity.HIGH}
    assert {f.severity for f in a.by_rule("upstream-unmodelled")} == {Severity.LOW}
    assert a.findings[0].rule == "router-guard-off"
    assert len(a.failing("high")) == 3


def test_findings_are_sorted_by_severity_rule_subject() -> None:
    order = [(-f.severity.rank, f.rule, f.subject, f.object or "") for f in PLAIN.findings]
    assert order == sorted(order)


def test_analysis_prints_a_summary_then_findings() -> None:
    text = str(run(("dhcp-guard-off", "zone:web")))
    first = text.splitlines()[0]
    assert first.startswith("policy: ") and "2 waived" in first
    assert "p.yaml:" in text
