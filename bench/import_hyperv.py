"""Time ``netseg import hyperv`` on a generated 1,000-host / 50,000-VM estate.

``python -m bench.import_hyperv [--hosts N] [--vms-per-host M]`` writes one collection file per
host (the layout hyperv.ps1 writes, Windows PowerShell 5.1 integer enums) into a temporary
folder, imports them all as one topology (JSON, checked by the loader as ``netseg import``
does), and prints the seconds and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.imports import peak_rss_mib, timed_import

RULES = 40  # enabled inbound rules of a Windows Server host, roughly


def collection(h: int, vms: int) -> dict[str, Any]:
    """One host: a SET switch with management and live-migration vNICs, guests in VLANs."""
    name = f"HV{h:04d}"
    adapters: list[dict[str, Any]] = []
    vlans: list[dict[str, Any]] = []
    for k, (vnic, vlan) in enumerate((("Management", 10), ("LiveMigration", 40))):
        aid = f"Microsoft:{h:08X}-0000-4000-8000-{k:012X}"
        adapters.append(
            {
                "Name": vnic,
                "Id": aid,
                "VMName": "",
                "IsManagementOs": True,
                "SwitchName": "Converged",
                "MacAddress": f"00155D{h:04X}{k:02X}",
                "IPAddresses": [],
                "DhcpGuard": 1,
                "RouterGuard": 1,
                "MacAddressSpoofing": 1,
                "PortMirroringMode": 0,
            }
        )
        vlans.append({"AdapterId": aid, "OperationMode": 1, "AccessVlanId": vlan})
    configs = []
    for v in range(vms):
        vm = f"{h:08X}-{v:04X}-4000-8000-000000000000"
        aid = f"Microsoft:{vm}\\{v:08X}-0000-4000-8000-{h:012X}"
        ip = f"10.{h // 250}.{h % 250}.{v + 10}"
        adapters.append(
            {
                "Name": "Network Adapter",
                "Id": aid,
                "VMName": f"vm-{h:04d}-{v:02d}",
                "IsManagementOs": False,
                "SwitchName": "Converged",
                "MacAddress": f"00155E{h:04X}{v:02X}",
                "IPAddresses": [ip],
                "DhcpGuard": v % 2,
                "RouterGuard": v % 2,
                "MacAddressSpoofing": 1,
                "PortMirroringMode": 0,
            }
        )
        if v % 10 == 9:
            vlans.append(
                {
                    "AdapterId": aid,
                    "OperationMode": 2,
                    "NativeVlanId": 0,
                    "AllowedVlanIdList": list(range(100, 110)),
                }
            )
        else:
            vlans.append({"AdapterId": aid, "OperationMode": 1, "AccessVlanId": 100 + v % 20})
        configs.append(
            {
                "InstanceID": f"Microsoft:GuestNetwork\\{aid.split(':', 1)[1]}",
                "IPAddresses": [ip],
                "Subnets": ["255.255.255.0"],
            }
        )
    rules = [
        {
            "Name": f"Rule-{r}",
            "DisplayName": f"Rule {r} (TCP-In)",
            "Enabled": 1,
            "Direction": 1,
            "Action": 2 if r % 7 else 4,
            "Profile": 0 if r % 3 else 1,
            "Protocol": "TCP",
            "LocalPort": [str(1000 + r)],
            "RemoteAddress": ["Any"] if r % 2 else ["192.0.2.96/27"],
        }
        for r in range(RULES)
    ]
    return {
        "NetsegCollection": "hyperv",
        "FormatVersion": 1,
        "ComputerName": name,
        "VMSwitch": [
            {
                "Name": "Converged",
                "SwitchType": 2,
                "AllowManagementOS": True,
                "NetAdapterInterfaceDescription": "Teamed-Interface",
                "NetAdapterInterfaceDescriptions": ["NIC A", "NIC B"],
                "EmbeddedTeamingEnabled": True,
            }
        ],
        "VMNetworkAdapter": adapters,
        "VMNetworkAdapterVlan": vlans,
        "VMNetworkAdapterIsolation": [],
        "GuestNetworkAdapterConfiguration": configs,
        "NetAdapter": [
            {
                "Name": "SLOT 1",
                "InterfaceDescription": "NIC A",
                "InterfaceIndex": 5,
                "Virtual": False,
            },
            {
                "Name": "SLOT 2",
                "InterfaceDescription": "NIC B",
                "InterfaceIndex": 6,
                "Virtual": False,
            },
            {
                "Name": "vEthernet (Management)",
                "InterfaceDescription": "Hyper-V Virtual Ethernet Adapter",
                "InterfaceIndex": 13,
                "MacAddress": f"00-15-5D-{h >> 8:02X}-{h & 255:02X}-00",
                "Virtual": True,
            },
        ],
        "NetIPAddress": [
            {
                "InterfaceIndex": 13,
                "IPAddress": f"172.16.{h // 250}.{h % 250 + 1}",
                "PrefixLength": 16,
            }
        ],
        "NetConnectionProfile": [{"InterfaceIndex": 13, "NetworkCategory": 2}],
        "NetFirewallProfile": [
            {"Name": p, "Enabled": 1, "DefaultInboundAction": 4}
            for p in ("Domain", "Private", "Public")
        ],
        "NetFirewallRule": rules,
    }


def generate(folder: Path, hosts: int, vms: int) -> list[str]:
    paths = []
    for h in range(hosts):
        path = folder / f"HV{h:04d}.json"
        path.write_text(json.dumps(collection(h, vms)), encoding="utf-8")
        paths.append(str(path))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms-per-host", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="netseg-bench-hyperv-") as tmp:
        paths = generate(Path(tmp), args.hosts, args.vms_per_host)
        size = sum(Path(p).stat().st_size for p in paths)
        timed = timed_import("hyperv", paths)
    result, seconds, cpu, peak = timed.result, timed.seconds, timed.cpu, peak_rss_mib()
    print(
        f"import hyperv: {result.counts['hosts']} hosts, {result.counts['guests']} guests "
        f"from {len(paths)} files ({size / 1e6:.0f} MB): {seconds:.1f} s ({cpu:.1f} s CPU), peak RSS {peak:.0f} MiB, "
        f"{len(result.warnings)} warnings"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
