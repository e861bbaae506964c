"""VLAN sets and service sets behave like Python sets and print canonically."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netseg.model.services import PortSet, ServiceSet
from netseg.model.vlans import VlanSet


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        (10, "10"),
        ("10-20", "10-20"),
        ("10,99", "10,99"),
        ([10, "30-39"], "10,30-39"),
        ("all", "all"),
        ("1-4094", "all"),
        (["10-20", "15-25", 26], "10-26"),
    ],
)
def test_vlan_set_syntax(text: object, printed: str) -> None:
    assert str(VlanSet.parse(text)) == printed


@pytest.mark.parametrize("bad", [0, 4095, "10-5", "x", "", [], [[1]], True, 1.5])
def test_vlan_set_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        VlanSet.parse(bad)


def test_vlan_set_algebra() -> None:
    a, b = VlanSet.parse("10-20"), VlanSet.parse("15-30")
    assert str(a | b) == "10-30"
    assert str(a & b) == "15-20"
    assert str(a - b) == "10-14"
    assert str(a ^ b) == "10-14,21-30"
    assert VlanSet.parse("12") <= a and not b <= a
    assert 15 in a and 21 not in a
    assert a.isdisjoint(VlanSet.parse("99"))
    assert len(VlanSet.full()) == 4094


vids = st.lists(st.integers(1, 4094), max_size=30).map(set)


@given(vids, vids)
def test_vlan_set_agrees_with_python_sets(x: set[int], y: set[int]) -> None:
    a, b = VlanSet(x), VlanSet(y)
    assert set(a | b) == x | y
    assert set(a & b) == x & y
    assert set(a - b) == x - y
    assert (a <= b) == (x <= y)
    assert (a == b) == (x == y)


@pytest.mark.parametrize(
    ("spec", "items"),
    [
        ("any", ["any"]),
        (["tcp/443", "tcp/444"], ["tcp/443-444"]),
        (["udp/53", "tcp/22", "icmp"], ["icmp", "tcp/22", "udp/53"]),
        ("tcp", ["tcp"]),
        ("tcp/0-65535", ["tcp"]),
        (["tcp/8000-8100", "tcp/8050-8200"], ["tcp/8000-8200"]),
    ],
)
def test_service_set_canonical_items(spec: object, items: list[str]) -> None:
    assert ServiceSet.parse(spec).items() == items


@pytest.mark.parametrize("bad", ["smtp", "tcp/", "tcp/99999", "tcp/20-10", "udp/x", [], 443])
def test_service_set_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        ServiceSet.parse(bad)


def test_service_set_algebra() -> None:
    web = ServiceSet.parse(["tcp/80", "tcp/443"])
    assert ServiceSet.any() - web >= ServiceSet.parse("udp")
    assert (ServiceSet.any() - web) & web == ServiceSet.none()
    assert "tcp/443" in web and "tcp/22" not in web
    assert not ServiceSet.none()
    assert str(ServiceSet.parse("tcp/22") | ServiceSet.parse("tcp/23")) == "tcp/22-23"
    assert ServiceSet.single("tcp", 22) <= ServiceSet.parse("tcp/1-1024")
    assert ServiceSet.single("gre") == ServiceSet(other=True)


ports = st.lists(st.integers(0, 65535), max_size=10).map(set)


@given(ports, ports)
def test_service_sets_agree_with_port_sets(x: set[int], y: set[int]) -> None:
    a = ServiceSet.parse([f"tcp/{p}" for p in x]) if x else ServiceSet.none()
    b = ServiceSet.parse([f"tcp/{p}" for p in y]) if y else ServiceSet.none()
    assert set(a.tcp) == x and set((a | b).tcp) == x | y
    assert set((a - b).tcp) == x - y
    assert (a <= b) == (x <= y)


# few ports, so that one set is often inside the other
few_ports = st.sets(st.integers(20, 23), max_size=3).map(lambda x: PortSet(sorted(x)))
services = st.builds(
    ServiceSet,
    tcp=few_ports,
    udp=few_ports,
    icmp=st.booleans(),
    icmp6=st.booleans(),
    other=st.booleans(),
)


@given(services, services)
def test_service_subset_is_an_empty_difference(a: ServiceSet, b: ServiceSet) -> None:
    assert (a <= b) == (not (a - b)) == (a | b == b)
    assert a <= a | b and a & b <= a


def test_sets_are_immutable_and_hashable() -> None:
    v = VlanSet.parse("10")
    with pytest.raises(AttributeError):
        v.ranges = ()  # type: ignore[misc]
    assert {v, VlanSet.parse([10])} == {v}
    assert {ServiceSet.parse("tcp/22"), ServiceSet.parse(["tcp/22"])} == {
        ServiceSet.parse("tcp/22")
    }
