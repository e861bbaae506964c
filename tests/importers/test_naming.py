"""The naming convention shared by importers: switch hostnames and full port names."""

from __future__ import annotations

import pytest

from netseg.importers.naming import natural_key, port_name, switch_name


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("tor1.example.com", "tor1"),
        ("tor1(FDO2112A0BC)", "tor1"),
        ("core-sw.dc1.example.net(SSI1234)", "core-sw"),
        ("198.51.100.7", "198.51.100.7"),
        (" tor2 ", "tor2"),
    ],
)
def test_switch_name(reported: str, expected: str) -> None:
    assert switch_name(reported) == expected


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("Eth1/1", "Ethernet1/1"),
        ("Et49/1", "Ethernet49/1"),
        ("Ethernet1/48", "Ethernet1/48"),
        ("Gi1/0/1", "GigabitEthernet1/0/1"),
        ("GigabitEthernet1/0/1", "GigabitEthernet1/0/1"),
        ("Te1/1/4", "TenGigabitEthernet1/1/4"),
        ("Twe1/0/25", "TwentyFiveGigE1/0/25"),
        ("Hu1/0/49", "HundredGigE1/0/49"),
        ("Po10", "Port-channel10"),
        ("xe-0/0/1", "xe-0/0/1"),
        ("ge-0/0/12.0", "ge-0/0/12.0"),
        ("00:00:5e:00:53:01", None),
        ("17", None),
        ("", None),
    ],
)
def test_port_name(reported: str, expected: str | None) -> None:
    assert port_name(reported) == expected


def test_natural_order() -> None:
    names = ["vmnic10", "vmnic2", "Ethernet1/11", "Ethernet1/2", "vmnic1"]
    assert sorted(names, key=natural_key) == [
        "Ethernet1/2",
        "Ethernet1/11",
        "vmnic1",
        "vmnic2",
        "vmnic10",
    ]
