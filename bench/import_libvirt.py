"""Time ``netseg import libvirt`` on a generated 1,000-host / 50,000-VM KVM estate.

``python -m bench.import_libvirt [--hosts N] [--vms-per-host M] [--keep DIR]`` writes, per host,
the folder an administrator collects (``virsh net-dumpxml`` of a NAT network, an Open vSwitch
network with portgroups and a host bridge; ``virsh dumpxml`` of every domain, in the layout
libvirt prints; the host's ``ovs-vsctl --format=json list`` tables), imports every folder as
one topology (JSON, checked by the loader) and prints the seconds and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.imports import summary, timed_import

PORTGROUPS = range(110, 120)  # portgroup vlanN on the OVS network, one VLAN each
DEFAULT = " default='yes'"


def network_xml(h: int) -> dict[str, str]:
    pgs = "".join(
        f"  <portgroup name='vlan{v}'{DEFAULT if v == 110 else ''}>\n"
        f"    <vlan>\n      <tag id='{v}'/>\n    </vlan>\n  </portgroup>\n"
        for v in PORTGROUPS
    )
    return {
        "net-default.xml": (
            "<network>\n  <name>default</name>\n"
            f"  <uuid>{uuid.UUID(int=h << 8 | 1)}</uuid>\n"
            "  <forward mode='nat'>\n    <nat>\n      <port start='1024' end='65535'/>\n"
            "    </nat>\n  </forward>\n  <bridge name='virbr0' stp='on' delay='0'/>\n"
            "  <mac address='52:54:00:0a:00:01'/>\n"
            "  <ip address='192.0.2.1' netmask='255.255.255.0'>\n    <dhcp>\n"
            "      <range start='192.0.2.2' end='192.0.2.254'/>\n    </dhcp>\n  </ip>\n"
            "</network>\n"
        ),
        "net-ovs.xml": (
            "<network>\n  <name>ovs</name>\n"
            f"  <uuid>{uuid.UUID(int=h << 8 | 2)}</uuid>\n"
            "  <forward mode='bridge'/>\n  <bridge name='ovsbr0'/>\n"
            "  <virtualport type='openvswitch'/>\n" + pgs + "</network>\n"
        ),
    }


def domain_xml(h: int, g: int) -> str:
    mac = f"52:54:00:{h >> 8:02x}:{h & 255:02x}:{g:02x}"
    vlan = PORTGROUPS[g % len(PORTGROUPS)]
    return (
        f"<domain type='kvm' id='{g + 1}'>\n  <name>vm{h:04d}-{g:02d}</name>\n"
        f"  <uuid>{uuid.UUID(int=h << 16 | g)}</uuid>\n"
        "  <memory unit='KiB'>2097152</memory>\n  <currentMemory unit='KiB'>2097152</currentMemory>\n"
        "  <vcpu placement='static'>2</vcpu>\n  <os>\n"
        "    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n    <boot dev='hd'/>\n"
        "  </os>\n  <features>\n    <acpi/>\n    <apic/>\n  </features>\n"
        "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n"
        "  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n"
        "  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n  <devices>\n"
        "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
        "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
        f"      <source file='/var/lib/libvirt/images/vm{h:04d}-{g:02d}.qcow2'/>\n"
        "      <target dev='vda' bus='virtio'/>\n    </disk>\n"
        "    <interface type='network'>\n"
        f"      <mac address='{mac}'/>\n"
        f"      <source network='ovs' portgroup='vlan{vlan}'/>\n"
        "      <virtualport type='openvswitch'>\n"
        f"        <parameters interfaceid='{uuid.UUID(int=h << 16 | g | 1 << 64)}'/>\n"
        "      </virtualport>\n"
        f"      <target dev='vnet{g}'/>\n      <model type='virtio'/>\n"
        "    </interface>\n"
        + (
            "    <interface type='network'>\n"
            f"      <mac address='52:54:01:{h >> 8:02x}:{h & 255:02x}:{g:02x}'/>\n"
            "      <source network='default'/>\n"
            f"      <target dev='vnet{g + 100}'/>\n      <model type='virtio'/>\n"
            "    </interface>\n"
            if g % 10 == 0
            else ""
        )
        + "    <console type='pty'/>\n    <memballoon model='virtio'/>\n  </devices>\n"
        "</domain>\n"
    )


def _uuid(kind: int, h: int, n: int) -> list[str]:
    return ["uuid", str(uuid.UUID(int=kind << 96 | h << 32 | n))]


def ovs_json(h: int, vms: int) -> str:
    """`ovs-vsctl --format=json list Open_vSwitch -- list Bridge -- list Port -- list
    Interface` for the host: a bond uplink, the host's internal port, one port per guest NIC."""
    ports: list[tuple[str, list[str], object, list[tuple[str, str, dict[str, str]]]]] = [
        ("bond0", [], ["set", []], [("ens1f0", "", {}), ("ens1f1", "", {})]),
        ("ovsbr0", [], ["set", []], [("ovsbr0", "internal", {})]),
        ("mgmt0", [], 10, [("mgmt0", "internal", {})]),
    ]
    for g in range(vms):
        mac = f"52:54:00:{h >> 8:02x}:{h & 255:02x}:{g:02x}"
        ids = {"attached-mac": mac, "vm-id": str(uuid.UUID(int=h << 16 | g))}
        ports.append((f"vnet{g}", [], PORTGROUPS[g % len(PORTGROUPS)], [(f"vnet{g}", "", ids)]))
    port_rows, iface_rows = [], []
    for p, (name, _, tag, ifaces) in enumerate(ports):
        refs = []
        for i, (iname, itype, ids) in enumerate(ifaces):
            ref = _uuid(3, h, p * 4 + i)
            refs.append(ref)
            iface_rows.append(
                [ref, iname, itype, ["map", [[k, v] for k, v in ids.items()]], ["map", []]]
            )
        members: object = refs[0] if len(refs) == 1 else ["set", refs]
        port_rows.append([_uuid(2, h, p), name, members, tag, ["set", []], ["set", []]])
    bridge = [_uuid(1, h, 0), "ovsbr0", ["set", [r[0] for r in port_rows]]]
    host = [_uuid(0, h, 0), ["map", [["hostname", f"kvm{h:04d}.example.net"]]], "3.1.0"]
    tables = [
        (["_uuid", "external_ids", "ovs_version"], [host]),
        (["_uuid", "name", "ports", "datapath_type"], [[*bridge, ""]]),
        (["_uuid", "name", "interfaces", "tag", "trunks", "vlan_mode"], port_rows),
        (["_uuid", "name", "type", "external_ids", "options"], iface_rows),
    ]
    return "".join(
        json.dumps({"data": rows, "headings": heads}, separators=(",", ":")) + "\n"
        for heads, rows in tables
    )


def generate(root: Path, hosts: int, vms: int) -> list[str]:
    folders = []
    for h in range(hosts):
        folder = root / f"kvm{h:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in network_xml(h).items():
            (folder / name).write_text(text, encoding="utf-8")
        for g in range(vms):
            (folder / f"vm{h:04d}-{g:02d}.xml").write_text(domain_xml(h, g), encoding="utf-8")
        (folder / "ovs.json").write_text(ovs_json(h, vms), encoding="utf-8")
        folders.append(str(folder))
    return folders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms-per-host", type=int, default=50)
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="netseg-libvirt-") as tmp:
        root = Path(args.keep or tmp)
        started = time.perf_counter()
        folders = generate(root, args.hosts, args.vms_per_host)
        generated = time.perf_counter() - started
        os.sync()  # an administrator's files are on disk: time no write-back of the generator's
        timed = timed_import("libvirt", folders)
    print(summary("libvirt", timed, generated))
    return 0


if __name__ == "__main__":
    sys.exit(main())
