"""Time ``netseg import ovs`` on a generated 1,000-host / 50,000-guest-port estate.

``python -m bench.import_ovs [--hosts N] [--ports-per-host M] [--keep DIR]`` writes, per host,
one file of ``ovs-vsctl --format=json list Open_vSwitch -- list Bridge -- list Port -- list
Interface`` with every column of Open vSwitch 3.1's schema (a bonded uplink, the host's
internal port in VLAN 10, guest ports in access, trunk and native-untagged modes with libvirt's
external_ids), imports them as one topology (JSON, checked by the loader) and prints the seconds
and the peak RSS.
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
from typing import Any

from bench.imports import summary, timed_import

# the columns `ovs-vsctl --format=json list` prints in Open vSwitch 3.1 (the bench's realism:
# the importer reads a few of them and must skip the rest)
OPEN_VSWITCH = "_uuid bridges cur_cfg datapath_types datapaths db_version dpdk_initialized dpdk_version external_ids iface_types manager_options next_cfg other_config ovs_version ssl statistics system_type system_version"
BRIDGE = "_uuid auto_attach controller datapath_id datapath_type datapath_version external_ids fail_mode flood_vlans flow_tables ipfix mcast_snooping_enable mirrors name netflow other_config ports protocols rstp_enable rstp_status sflow status stp_enable"
PORT = "_uuid bond_active_slave bond_downdelay bond_fake_iface bond_mode bond_updelay cvlans external_ids fake_bridge interfaces lacp mac name other_config protected qos rstp_statistics rstp_status statistics status tag trunks vlan_mode"
INTERFACE = "_uuid admin_state bfd bfd_status cfm_fault cfm_fault_status cfm_flap_count cfm_health cfm_mpid cfm_remote_mpids cfm_remote_opstate duplex error external_ids ifindex ingress_policing_burst ingress_policing_kpkts_burst ingress_policing_kpkts_rate ingress_policing_rate lacp_current link_resets link_speed link_state lldp mac mac_in_use mtu mtu_request name ofport ofport_request options other_config statistics status type"
EMPTY: list[Any] = ["set", []]
NOMAP: list[Any] = ["map", []]


def _uuid(kind: int, h: int, n: int) -> list[str]:
    return ["uuid", str(uuid.UUID(int=kind << 96 | h << 32 | n))]


def _row(columns: str, **values: Any) -> list[Any]:
    row = []
    for column in columns.split():
        default: Any = NOMAP if column in ("external_ids", "other_config", "status") else EMPTY
        row.append(values.get(column, default))
    return row


def host_lists(h: int, ports: int) -> str:
    # (port, tag, trunks, vlan_mode, bond_mode, [(interface, type, external_ids)])
    plan: list[tuple[str, Any, Any, Any, Any, list[tuple[str, str, dict[str, str]]]]] = [
        ("bond0", EMPTY, EMPTY, EMPTY, "balance-slb", [("ens1f0", "", {}), ("ens1f1", "", {})]),
        ("ovsbr0", EMPTY, EMPTY, EMPTY, EMPTY, [("ovsbr0", "internal", {})]),
        ("mgmt0", 10, EMPTY, EMPTY, EMPTY, [("mgmt0", "internal", {})]),
    ]
    for g in range(ports):
        ids = {
            "attached-mac": f"52:54:00:{h >> 8:02x}:{h & 255:02x}:{g:02x}",
            "iface-id": str(uuid.UUID(int=h << 16 | g | 1 << 64)),
            "iface-status": "active",
            "vm-id": str(uuid.UUID(int=h << 16 | g)),
        }
        if g % 25 == 24:  # an IDS sensor: a trunk of the guest VLANs, one of them untagged
            vlan = (110, ["set", list(range(110, 120))], "native-untagged")
        elif g % 25 == 23:
            vlan = (EMPTY, ["set", [110, 111]], "trunk")
        else:
            vlan = (110 + g % 10, EMPTY, EMPTY)
        plan.append((f"vnet{g}", *vlan, EMPTY, [(f"vnet{g}", "", ids)]))
    port_rows, iface_rows = [], []
    for p, (name, tag, trunks, mode, bond, ifaces) in enumerate(plan):
        refs = []
        for i, (iname, itype, ids) in enumerate(ifaces):
            ref = _uuid(3, h, p * 4 + i)
            refs.append(ref)
            iface_rows.append(
                _row(
                    INTERFACE,
                    _uuid=ref,
                    name=iname,
                    type=itype,
                    external_ids=["map", sorted([k, v] for k, v in ids.items())],
                    mac_in_use=f"fe:54:00:{h >> 8:02x}:{h & 255:02x}:{p % 256:02x}",
                    ofport=p + 1,
                    admin_state="up",
                    link_state="up",
                    mtu=1500,
                )
            )
        port_rows.append(
            _row(
                PORT,
                _uuid=_uuid(2, h, p),
                name=name,
                interfaces=refs[0] if len(refs) == 1 else ["set", refs],
                tag=tag,
                trunks=trunks,
                vlan_mode=mode,
                bond_mode=bond,
            )
        )
    bridge = _row(
        BRIDGE,
        _uuid=_uuid(1, h, 0),
        name="ovsbr0",
        ports=["set", [r[0] for r in port_rows]],
        datapath_type="",
        datapath_version="<unknown>",
        mcast_snooping_enable=False,
        rstp_enable=False,
        stp_enable=False,
    )
    top = _row(
        OPEN_VSWITCH,
        _uuid=_uuid(0, h, 0),
        bridges=_uuid(1, h, 0),
        external_ids=[
            "map",
            [["hostname", f"kvm{h:04d}.example.net"], ["system-id", str(uuid.UUID(int=h))]],
        ],
        ovs_version="3.1.0",
        db_version="8.3.1",
        cur_cfg=ports + 10,
        next_cfg=ports + 10,
    )
    return "".join(
        json.dumps({"data": rows, "headings": cols.split()}, separators=(",", ":")) + "\n"
        for cols, rows in (
            (OPEN_VSWITCH, [top]),
            (BRIDGE, [bridge]),
            (PORT, port_rows),
            (INTERFACE, iface_rows),
        )
    )


def generate(root: Path, hosts: int, ports: int) -> list[str]:
    folders = []
    for h in range(hosts):
        folder = root / f"kvm{h:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ovs.json").write_text(host_lists(h, ports), encoding="utf-8")
        folders.append(str(folder))
    return folders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--ports-per-host", type=int, default=50)
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="netseg-ovs-") as tmp:
        root = Path(args.keep or tmp)
        started = time.perf_counter()
        folders = generate(root, args.hosts, args.ports_per_host)
        generated = time.perf_counter() - started
        os.sync()  # an administrator's files are on disk: time no write-back of the generator's
        timed = timed_import("ovs", folders)
    print(summary("ovs", timed, generated))
    return 0


if __name__ == "__main__":
    sys.exit(main())
