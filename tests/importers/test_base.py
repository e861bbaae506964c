"""netseg.importers.base helpers that several sources share."""

from __future__ import annotations

from netseg.importers.base import Imported, unique_macs


def test_a_mac_seen_twice_is_kept_on_the_first_nic_and_warned_about() -> None:
    imported = Imported(
        {
            "hosts": [{"name": "h1", "management": [{"name": "vmk0", "mac": "00:50:56:00:00:01"}]}],
            "guests": [
                {
                    "name": "g1",
                    "nics": [
                        {"name": "eth0", "mac": "00-50-56-00-00-01", "source": "x row 3"},
                        {"name": "eth1", "mac": "00:50:56:00:00:02"},
                    ],
                },
                {"name": "g2", "nics": [{"mac": "00:50:56:00:00:02", "source": "x row 5"}]},
            ],
            "endpoints": [{"name": "e1", "mac": "00:50:56:00:00:02", "source": "x row 7"}],
        }
    )
    unique_macs(imported)
    nics = [n for g in imported.document["guests"] for n in g["nics"]]
    assert [n.get("mac") for n in nics] == [None, "00:50:56:00:00:02", None]
    assert imported.document["hosts"][0]["management"][0]["mac"] == "00:50:56:00:00:01"
    assert "mac" not in imported.document["endpoints"][0]
    assert [str(w) for w in imported.warnings] == [
        "x row 3: warning: MAC 00-50-56-00-00-01 of guest g1/eth0 is already management "
        "interface h1/vmk0's; left out here",
        "x row 5: warning: MAC 00:50:56:00:00:02 of guest g2/nic0 is already guest g1/eth1's; "
        "left out here",
        "x row 7: warning: MAC 00:50:56:00:00:02 of endpoint e1 is already guest g1/eth1's; "
        "left out here",
    ]
