"""Which hypervisor a key applies to is declared once (spec.Field.hypervisors) and drives both
the check and the JSON Schema's text."""

from __future__ import annotations

import pytest

from netseg.errors import TopologyError
from netseg.topology import json_schema, loads
from netseg.topology.source import MDict
from netseg.topology.spec import GUEST_NIC, HOST, HYPERVISOR_NAMES, MANAGEMENT, VSWITCH, Record

RESTRICTED = [
    (record, key, spec.hypervisors)
    for record in (HOST, VSWITCH, MANAGEMENT, GUEST_NIC)
    for key, spec in record.fields.items()
    if spec.hypervisors
]


def test_the_known_hypervisor_specific_keys_are_declared() -> None:
    declared = {(r.name, k) for r, k, _ in RESTRICTED}
    assert declared >= {
        ("Host", "driver_domains"),
        ("VSwitch", "portgroups"),
        ("VSwitch", "security"),
        ("VSwitch", "allow_management_os"),
        ("VSwitch", "vlan_filtering"),
        ("VSwitch", "domain"),
        ("ManagementInterface", "services"),
        ("ManagementInterface", "domain"),
        ("GuestNic", "guards"),
    }


@pytest.mark.parametrize(
    ("record", "key", "allowed"), RESTRICTED, ids=[f"{r.name}.{k}" for r, k, _ in RESTRICTED]
)
def test_a_key_is_refused_exactly_on_the_other_hypervisors(
    record: Record, key: str, allowed: tuple[str, ...]
) -> None:
    value = MDict("t.yaml", (1, 1))
    value[key] = None
    for hv in HYPERVISOR_NAMES:
        found = record.misplaced(value, hv)
        if hv in allowed:
            assert found == []
        else:
            ((k, message),) = found
            assert k == key and message


@pytest.mark.parametrize(
    ("record", "key", "allowed"), RESTRICTED, ids=[f"{r.name}.{k}" for r, k, _ in RESTRICTED]
)
def test_the_schema_says_where_a_key_applies(
    record: Record, key: str, allowed: tuple[str, ...]
) -> None:
    text = json_schema()["definitions"][record.name]["properties"][key]["description"]
    assert text.endswith(f"({', '.join(HYPERVISOR_NAMES[h] for h in allowed)} only)")


def test_a_misplaced_key_is_reported_at_its_position() -> None:
    text = """netseg: 1
name: t
hosts:
  - name: hv1
    hypervisor: hyperv
    nics: [{name: eth0}]
    vswitches:
      - {name: ext, type: external, uplinks: [eth0], vlan_filtering: true}
"""
    with pytest.raises(TopologyError) as info:
        loads(text, "t.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (8, "hosts[0].vswitches[0].vlan_filtering")
    assert problem.message == "'vlan_filtering' does not apply to hyperv virtual switches"
