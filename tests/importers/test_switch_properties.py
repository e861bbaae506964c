"""Property: random interface/VLAN configurations written in IOS syntax and read back give the
same port modes, access VLANs, allowed VLAN sets and native VLANs.

The expected sets are worked out here with plain Python sets, independently of netseg's
VlanSet algebra; the configuration text is written the way IOS writes it (ranges, ``add``,
``remove``, ``except``, ``none``, ``all``, interface ranges, mode before or after the lists).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netseg.importers.switch import read_config

ALL = frozenset(range(1, 4095))


def ranges_text(vlans: frozenset[int]) -> str:
    out, run = [], []
    for v in sorted(vlans):
        if run and v == run[-1] + 1:
            run.append(v)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [v]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


vlan_sets = st.lists(
    st.tuples(st.integers(1, 4094), st.integers(0, 40)), min_size=1, max_size=4
).map(lambda spans: frozenset(v for lo, n in spans for v in range(lo, min(lo + n, 4094) + 1)))
ops = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["set", "add", "remove", "except"]), vlan_sets),
        st.tuples(st.sampled_from(["none", "all"]), st.just(frozenset())),
    ),
    max_size=4,
)
ports = st.lists(
    st.one_of(
        st.tuples(st.just("access"), st.integers(1, 4094), st.booleans()),
        st.tuples(st.just("trunk"), ops, st.one_of(st.none(), st.integers(1, 4094)), st.booleans()),
    ),
    min_size=1,
    max_size=8,
)


def write(spec: list[tuple]) -> tuple[str, dict[str, tuple]]:  # type: ignore[type-arg]
    lines = ["hostname prop", "!"]
    expected: dict[str, tuple] = {}  # type: ignore[type-arg]
    for n, port in enumerate(spec, 1):
        name = f"GigabitEthernet1/0/{n}"
        body: list[str] = []
        if port[0] == "access":
            _, vlan, mode_first = port
            mode = " switchport mode access"
            body = (
                [mode, f" switchport access vlan {vlan}"]
                if mode_first
                else [f" switchport access vlan {vlan}", mode]
            )
            expected[name] = ("access", vlan)
        else:
            _, steps, native, mode_first = port
            allowed = set(ALL)
            for op, vlans in steps:
                if op == "set":
                    allowed = set(vlans)
                    body.append(f" switchport trunk allowed vlan {ranges_text(vlans)}")
                elif op in ("add", "remove", "except"):
                    allowed = (
                        allowed | vlans
                        if op == "add"
                        else allowed - vlans
                        if op == "remove"
                        else set(ALL - vlans)
                    )
                    body.append(f" switchport trunk allowed vlan {op} {ranges_text(vlans)}")
                else:
                    allowed = set() if op == "none" else set(ALL)
                    body.append(f" switchport trunk allowed vlan {op}")
            if native is not None:
                body.append(f" switchport trunk native vlan {native}")
            mode = " switchport mode trunk"
            body = [mode, *body] if mode_first else [*body, mode]
            expected[name] = ("trunk", frozenset(allowed), native if native is not None else 1)
        lines += [f"interface {name}", *body, "!"]
    return "\n".join(lines) + "\nend\n", expected


@settings(max_examples=150, deadline=None)
@given(ports)
def test_ios_round_trip(spec: list[tuple]) -> None:  # type: ignore[type-arg]
    text, expected = write(spec)
    facts = read_config(text, "prop.cfg", "ios")
    assert list(facts.interfaces) == list(expected)  # configuration order
    for name, want in expected.items():
        iface = facts.interfaces[name]
        assert iface.switchport and iface.mode == want[0], (name, text)
        if want[0] == "access":
            assert iface.access_vlan == want[1]
        else:
            assert frozenset(iface.allowed) == want[1], (name, text)
            assert iface.native == want[2]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(0, 7), st.integers(1, 4094))
def test_interface_range_applies_to_each_member(first: int, extra: int, vlan: int) -> None:
    last = first + extra
    text = (
        "hostname prop\n"
        f"interface range GigabitEthernet1/0/{first} - {last}\n switchport mode access\n"
        f" switchport access vlan {vlan}\n!\nend\n"
    )
    facts = read_config(text, "prop.cfg", "ios")
    assert list(facts.interfaces) == [f"GigabitEthernet1/0/{n}" for n in range(first, last + 1)]
    assert {(i.mode, i.access_vlan) for i in facts.interfaces.values()} == {("access", vlan)}


@settings(max_examples=100, deadline=None)
@given(ports)
def test_ios_round_trip_through_the_written_ports(spec: list[tuple]) -> None:  # type: ignore[type-arg]
    """The ports as written in the topology say the same: a trunk's `allowed` text parses back
    to the expected set, and a trunk that allows nothing is left out."""
    from netseg.importers.switch.build import build_switch
    from netseg.model.vlans import VlanSet

    text, expected = write(spec)
    built = build_switch(read_config(text, "prop.cfg", "ios"), "prop")
    written = {p["name"]: p for p in built.part.document["switches"][0]["ports"]}
    for name, want in expected.items():
        if want[0] == "access":
            assert (written[name]["mode"], written[name]["vlan"]) == ("access", want[1])
        elif not want[1]:
            assert name not in written
        else:
            port = written[name]
            assert port["mode"] == "trunk" and port["native"] == want[2]
            assert frozenset(VlanSet.parse(port["allowed"])) == want[1], (name, text)
