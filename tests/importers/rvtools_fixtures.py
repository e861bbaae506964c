"""The RVTools fixtures: a small estate written as an RVTools 4.x workbook and as an older
version's CSV export (other column order and spellings), from the column layouts documented in
``../shared/corpus/imports/SOURCES.md`` (no public RVTools export has its networking tabs
filled). Run ``python -m tests.importers.rvtools_fixtures OUT_DIR`` to look at them.

The estate is shaped for the analysis: a guest port group in the management VLAN, a VLAN 4095
port group that overrides the vSwitch's policy to promiscuous, a distributed trunk that
includes the management VLAN, vmkernel adapters with several services, a template, two VMs
with one name, a VM on an NSX segment no host has, and two NICs with one MAC.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import openpyxl

Rows = Sequence[Mapping[str, object]]

# --- RVTools 4.x layouts (the workbook) -----------------------------------------------------------

# vInfo as the real export in ../shared/corpus/imports/rvtools/migration-planner-example1.xlsx
# writes it, with Annotation and one custom attribute where RVTools puts them
VINFO = [
    "VM",
    "Powerstate",
    "Template",
    "SRM Placeholder",
    "Config status",
    "DNS Name",
    "Connection state",
    "Guest state",
    "Heartbeat",
    "CPUs",
    "Memory",
    "NICs",
    "Disks",
    "Primary IP Address",
    "Network #1",
    "Network #2",
    "Network #3",
    "Network #4",
    "Resource pool",
    "Folder ID",
    "Folder",
    "vApp",
    "Firmware",
    "HW version",
    "Annotation",
    "owner",
    "Datacenter",
    "Cluster",
    "Host",
    "OS according to the configuration file",
    "OS according to the VMware Tools",
    "VM ID",
    "VM UUID",
    "VI SDK Server type",
    "VI SDK API Version",
    "VI SDK Server",
    "VI SDK UUID",
]
VNETWORK = [
    "VM",
    "Powerstate",
    "Template",
    "SRM Placeholder",
    "NIC label",
    "Adapter",
    "Network",
    "Switch",
    "Connected",
    "Starts Connected",
    "Mac Address",
    "Type",
    "IPv4 Address",
    "IPv6 Address",
    "Direct Path IO",
    "Internal Sort Column",
    "Annotation",
    "owner",
    "Datacenter",
    "Cluster",
    "Host",
    "Folder",
    "OS according to the configuration file",
    "OS according to the VMware Tools",
    "VM ID",
    "VM UUID",
    "VI SDK Server",
    "VI SDK UUID",
]
VSWITCH = [
    "Host",
    "Datacenter",
    "Cluster",
    "Switch",
    "# Ports",
    "Free Ports",
    "Promiscuous Mode",
    "Mac Changes",
    "Forged Transmits",
    "Traffic Shaping",
    "Width",
    "Peak",
    "Burst",
    "Policy",
    "Reverse Policy",
    "Notify Switch",
    "Rolling Order",
    "Offload",
    "TSO",
    "Zero Copy Xmit",
    "MTU",
    "Uplinks",
    "VI SDK Server",
    "VI SDK UUID",
]
VPORT = [
    "Host",
    "Datacenter",
    "Cluster",
    "Port Group",
    "Switch",
    "VLAN",
    "Promiscuous Mode",
    "Mac Changes",
    "Forged Transmits",
    "Traffic Shaping",
    "Width",
    "Peak",
    "Burst",
    "Policy",
    "Reverse Policy",
    "Notify Switch",
    "Rolling Order",
    "Offload",
    "TSO",
    "Zero Copy Xmit",
    "VI SDK Server",
    "VI SDK UUID",
]
DVSWITCH = [
    "Switch",
    "Datacenter",
    "Name",
    "Vendor",
    "Version",
    "Description",
    "Created",
    "Host members",
    "Max Ports",
    "# Ports",
    "# VMs",
    "In Traffic Shaping",
    "VI SDK Server",
    "VI SDK UUID",
]
DVPORT = [
    "Port",
    "Switch",
    "Type",
    "# Ports",
    "VLAN",
    "Speed",
    "Full Duplex",
    "Blocked",
    "Allow Promiscuous",
    "Mac Changes",
    "Active Uplink",
    "Standby Uplink",
    "Policy",
    "Forged Transmits",
    "Uplink",
    "VI SDK Server",
    "VI SDK UUID",
]
VSC_VMK = [
    "Host",
    "Datacenter",
    "Cluster",
    "Port Group",
    "Device",
    "Mac Address",
    "DHCP",
    "IP Address",
    "IP 6 Address",
    "Subnet mask",
    "Gateway",
    "IP 6 Gateway",
    "MTU",
    "Services",
    "VI SDK Server",
    "VI SDK UUID",
]
VNIC = [
    "Host",
    "Datacenter",
    "Cluster",
    "Network Device",
    "Driver",
    "Speed",
    "Duplex",
    "MAC",
    "Switch",
    "Uplink port",
    "PCI",
    "WakeOn",
    "VI SDK Server",
    "VI SDK UUID",
]
LAYOUT = {
    "vInfo": VINFO,
    "vNetwork": VNETWORK,
    "vSwitch": VSWITCH,
    "vPort": VPORT,
    "dvSwitch": DVSWITCH,
    "dvPort": DVPORT,
    "vSC_VMK": VSC_VMK,
    "vNIC": VNIC,
}

# --- an older version's CSV export: other order, other spellings, no VM UUID ---------------

OLD_SPELLING = {"Mac Address": "MAC Address", "IP 6 Address": "IPv6 Address"}
OLD_DROPPED = {"VM UUID", "VI SDK UUID", "Uplinks"}


def old_layout(tab: str) -> list[str]:
    headers = [OLD_SPELLING.get(h, h) for h in LAYOUT[tab] if h not in OLD_DROPPED]
    return headers[::-1]  # reversed: a reader matching by position reads nonsense


# --- the estate -----------------------------------------------------------------------------------

SDK = {"VI SDK Server": "vc01.example.com", "VI SDK UUID": "5d3e0b3c-0000-4000-8000-000000000001"}
DC = {"Datacenter": "dc1", "Cluster": "prod"}


def estate() -> dict[str, list[dict[str, object]]]:
    hosts = ("esx01.example.com", "esx02.example.com")
    vswitch = [
        # esx01 hardened; esx02 leaves the policy blank (ESXi's defaults apply)
        {"Host": hosts[0], "Switch": "vSwitch0", "Promiscuous Mode": False,
         "Mac Changes": False, "Forged Transmits": False, "MTU": 1500, "Uplinks": "vmnic0,vmnic1"},
        {"Host": hosts[1], "Switch": "vSwitch0", "MTU": 1500, "Uplinks": "vmnic0"},
    ]  # fmt: skip
    vport = []
    for host in hosts:
        vport += [
            {"Host": host, "Port Group": "Management Network", "Switch": "vSwitch0", "VLAN": 10},
            {"Host": host, "Port Group": "VM Network", "Switch": "vSwitch0", "VLAN": 0},
            {"Host": host, "Port Group": "infra", "Switch": "vSwitch0", "VLAN": 10},
        ]
    vport.append(
        {"Host": hosts[0], "Port Group": "sniffer", "Switch": "vSwitch0", "VLAN": 4095,
         "Promiscuous Mode": True}
    )  # fmt: skip
    # "db" is also a distributed port group: VM NICs on it say which switch (vNetwork Switch)
    vport.append({"Host": hosts[1], "Port Group": "db", "Switch": "vSwitch0", "VLAN": 121})
    dvswitch = [
        {"Switch": "dvs-prod", "Name": "dvs-prod", "Vendor": "VMware, Inc.", "Version": "8.0.0",
         "Host members": ", ".join(hosts), "Max Ports": 2000}
    ]  # fmt: skip
    dvport = [
        {"Port": "dvs-prod-DVUplinks-31", "Switch": "dvs-prod", "Type": "earlyBinding",
         "VLAN": "0-4094", "Uplink": True},
        {"Port": "web", "Switch": "dvs-prod", "Type": "earlyBinding", "VLAN": 110,
         "Allow Promiscuous": False, "Mac Changes": False, "Forged Transmits": False, "Uplink": False},
        {"Port": "db", "Switch": "dvs-prod", "Type": "earlyBinding", "VLAN": 120, "Uplink": False},
        {"Port": "ids-trunk", "Switch": "dvs-prod", "Type": "earlyBinding", "VLAN": "5-12,300",
         "Forged Transmits": True, "Uplink": False},
        {"Port": "all-trunk", "Switch": "dvs-prod", "Type": "ephemeral", "VLAN": "0-4094",
         "Uplink": False},
        {"Port": "vMotion", "Switch": "dvs-prod", "Type": "earlyBinding", "VLAN": 200, "Uplink": False},
        {"Port": "isolated", "Switch": "dvs-prod", "Type": "earlyBinding",
         "VLAN": "Private VLAN 300/301", "Uplink": False},
    ]  # fmt: skip
    vmk = [
        {"Host": hosts[0], "Port Group": "Management Network", "Device": "vmk0",
         "Mac Address": "00:50:56:60:00:01", "DHCP": False, "IP Address": "192.0.2.11",
         "Subnet mask": "255.255.255.224", "IP 6 Address": "2001:db8:10::11/64, fe80::250:56ff:fe60:1/64",
         "MTU": 1500, "Services": "Management"},
        {"Host": hosts[0], "Port Group": "vMotion", "Device": "vmk1",
         "Mac Address": "00:50:56:60:00:02", "DHCP": False, "IP Address": "192.0.2.41",
         "Subnet mask": "255.255.255.224", "MTU": 9000, "Services": "vMotion, vSphereProvisioning"},
        {"Host": hosts[1], "Port Group": "Management Network", "Device": "vmk0",
         "Mac Address": "00:50:56:60:00:03", "DHCP": False, "IP Address": "192.0.2.12",
         "Subnet mask": "255.255.255.224", "MTU": 1500, "Services": "Management, vSAN"},
    ]  # fmt: skip
    vnic = [
        {"Host": hosts[0], "Network Device": "vmnic0", "Driver": "ixgben", "Speed": 10000,
         "Switch": "vSwitch0", "PCI": "0000:18:00.0"},
        {"Host": hosts[0], "Network Device": "vmnic1", "Driver": "ixgben", "Speed": 10000,
         "Switch": "vSwitch0", "PCI": "0000:18:00.1"},
        {"Host": hosts[0], "Network Device": "vmnic2", "Driver": "ixgben", "Speed": 10000,
         "Switch": "dvs-prod", "PCI": "0000:3b:00.0"},
        {"Host": hosts[1], "Network Device": "vmnic0", "Driver": "ixgben", "Speed": 10000,
         "Switch": "vSwitch0", "PCI": "0000:18:00.0"},
        {"Host": hosts[1], "Network Device": "vmnic1", "Driver": "ixgben", "Speed": 10000,
         "Switch": "dvs-prod", "PCI": "0000:18:00.1"},
        {"Host": hosts[1], "Network Device": "vmnic9", "Driver": "ntg3", "Speed": 0},
    ]  # fmt: skip
    vms = [
        # name, host, folder, annotation, owner, id, template
        ("web01", 0, "Prod/Web", "public web server", "web-team", "vm-101", False),
        ("web02", 1, "Prod/Web", "", "web-team", "vm-102", False),
        ("db01", 1, "Prod/DB", "", "dba", "vm-103", False),
        ("jump01", 0, "Infra/Jump", "jump host", "", "vm-104", False),
        ("ids01", 0, "Infra/Security", "", "secops", "vm-105", False),
        ("app01", 0, "Prod/App", "", "", "vm-106", False),
        ("app01", 1, "Test/App", "", "", "vm-107", False),
        ("tmpl-linux", 0, "Templates", "", "", "vm-108", True),
        ("nsx01", 1, "Prod/NSX", "", "", "vm-109", False),
        ("sniff01", 0, "Infra/Security", "", "secops", "vm-110", False),
    ]
    vinfo = []
    for name, host, folder, note, owner, vm_id, template in vms:
        vinfo.append(
            {"VM": name, "Powerstate": "poweredOff" if template else "poweredOn",
             "Template": template, "SRM Placeholder": False, "Folder": folder, "Annotation": note,
             "owner": owner, "Host": hosts[host], "VM ID": vm_id,
             "VM UUID": f"4201{vm_id[3:]:0>4}-0000-4000-8000-000000000000"}
        )  # fmt: skip
    nics = [
        # vm id, label, network, switch, mac, ipv4, ipv6
        ("vm-101", "Network adapter 1", "web", "dvs-prod", "00:50:56:a0:01:01", "198.51.100.11", ""),
        ("vm-101", "Network adapter 2", "db", "dvs-prod", "00:50:56:a0:01:02",
         "198.51.100.75, 198.51.100.76", "2001:db8:120::11, fe80::250:56ff:fea0:102"),
        ("vm-102", "Network adapter 1", "web", "dvs-prod", "00:50:56:a0:02:01", "198.51.100.12", ""),
        ("vm-103", "Network adapter 1", "db", "dvs-prod", "00:50:56:a0:03:01", "198.51.100.71", ""),
        ("vm-104", "Network adapter 1", "infra", "vSwitch0", "00:50:56:a0:04:01", "192.0.2.20", ""),
        ("vm-105", "Network adapter 1", "ids-trunk", "dvs-prod", "00:50:56:a0:05:01", "", ""),
        ("vm-106", "Network adapter 1", "VM Network", "vSwitch0", "00:50:56:a0:06:01", "203.0.113.6", ""),
        ("vm-107", "Network adapter 1", "VM Network", "vSwitch0", "00:50:56:a0:06:01", "203.0.113.7", ""),
        ("vm-108", "Network adapter 1", "VM Network", "vSwitch0", "00:50:56:a0:08:01", "", ""),
        ("vm-109", "Network adapter 1", "nsx-seg-web", "", "00:50:56:a0:09:01", "203.0.113.9", ""),
        ("vm-110", "Network adapter 1", "sniffer", "vSwitch0", "00:50:56:a0:10:01", "", ""),
        ("vm-110", "Network adapter 10", "all-trunk", "dvs-prod", "00:50:56:a0:10:0a", "", ""),
        ("vm-110", "Network adapter 2", "VM Network", "vSwitch0", "00:50:56:a0:10:02", "", ""),
    ]  # fmt: skip
    by_id = {vm[5]: vm for vm in vms}
    vnetwork = []
    for vm_id, label, net, switch, mac, ipv4, ipv6 in nics:
        name, host, folder, note, owner, _, template = by_id[vm_id]
        vnetwork.append(
            {"VM": name, "Powerstate": "poweredOn", "Template": template, "NIC label": label,
             "Adapter": "vmxnet3", "Network": net, "Switch": switch, "Connected": True,
             "Starts Connected": True, "Mac Address": mac, "Type": "assigned", "IPv4 Address": ipv4,
             "IPv6 Address": ipv6, "Annotation": note, "owner": owner, "Host": hosts[host],
             "Folder": folder, "VM ID": vm_id,
             "VM UUID": f"4201{vm_id[3:]:0>4}-0000-4000-8000-000000000000"}
        )  # fmt: skip
    out = {
        "vInfo": vinfo,
        "vNetwork": vnetwork,
        "vSwitch": vswitch,
        "vPort": vport,
        "dvSwitch": dvswitch,
        "dvPort": dvport,
        "vSC_VMK": vmk,
        "vNIC": vnic,
    }
    for tab, rows in out.items():
        for row in rows:
            row.update(SDK)
            if tab not in ("dvSwitch", "dvPort"):
                row.update(DC)
    return out


def _values(headers: Sequence[str], row: Mapping[str, object]) -> list[object]:
    back = {v: k for k, v in OLD_SPELLING.items()}
    return [row.get(h, row.get(back.get(h, h))) for h in headers]


def write_workbook(path: Path, tabs: Mapping[str, list[dict[str, object]]] | None = None) -> Path:
    """The estate as an RVTools 4.x ``.xlsx`` (tabs in RVTools' order, vHost first as the
    real export has other tabs around the networking ones)."""
    tabs = estate() if tabs is None else tabs
    book = openpyxl.Workbook(write_only=True)
    for tab, rows in tabs.items():
        sheet = book.create_sheet(tab)
        sheet.append(LAYOUT[tab])
        for row in rows:
            sheet.append(_values(LAYOUT[tab], row))
    book.create_sheet("vHealth").append(["Name", "Message", "Message type"])
    book.save(path)
    return path


def write_csv_folder(
    folder: Path, tabs: Mapping[str, list[dict[str, object]]] | None = None
) -> Path:
    """The estate as an older RVTools version's CSV export (``RVTools_tab<Tab>.csv``)."""
    tabs = estate() if tabs is None else tabs
    folder.mkdir(parents=True, exist_ok=True)
    for tab, rows in tabs.items():
        headers = old_layout(tab)
        with open(folder / f"RVTools_tab{tab}.csv", "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(headers)
            for row in rows:
                writer.writerow(["" if v is None else v for v in _values(headers, row)])
    return folder


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    print(write_workbook(out / "RVTools_export_all.xlsx"))
    print(write_csv_folder(out / "csv"))
