"""Time ``netseg import netbox`` on generated saved pages of a 1,000-host / 50,000-VM NetBox.

    python -m bench.import_netbox [--hosts 1000] [--vms-per-host 50]

The pages (NetBox 4.x objects, 1,000 per page as NetBox's default MAX_PAGE_SIZE) are written
once and cached outside the repository, in ``$XDG_CACHE_HOME/netseg-bench/netbox-HxV/``. The
import runs the whole pipeline (read, join, JSON, the topology loader's check) and prints
seconds and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.import_rvtools import cache_dir
from tests.importers.netbox_fixtures import _brief, _choice, _url, pages

HOSTS_PER_CLUSTER = 20  # and one pair of leaf switches per cluster
VLANS = 40


def _vlan(vid: int) -> dict[str, Any]:
    return {"id": vid, "url": _url("ipam/vlans", vid), "vid": vid, "name": f"vlan{vid}"}


def generate(folder: Path, hosts: int, vms_per_host: int) -> None:
    out: dict[str, list[dict[str, Any]]] = {
        e: []
        for e in (
            "dcim/devices",
            "dcim/interfaces",
            "ipam/vlans",
            "ipam/ip-addresses",
            "dcim/cables",
            "virtualization/clusters",
            "virtualization/virtual-machines",
            "virtualization/interfaces",
        )
    }
    out["ipam/vlans"] = [_vlan(v) for v in range(100, 100 + VLANS)]
    ids = {"device": 0, "iface": 0, "ip": 0, "cable": 0, "vm": 0, "vmif": 0}

    def new(kind: str) -> int:
        ids[kind] += 1
        return ids[kind]

    def iface(device: dict[str, Any], name: str, kind: str, **more: Any) -> dict[str, Any]:
        iid = new("iface")
        body = {"id": iid, "url": _url("dcim/interfaces", iid), "device": device, "name": name,
                "type": _choice(kind, kind), "enabled": True, "mgmt_only": False, "lag": None,
                "mode": None, "untagged_vlan": None, "tagged_vlans": [], **more}  # fmt: skip
        out["dcim/interfaces"].append(body)
        return body

    def address(target: dict[str, Any], kind: str, text: str) -> None:
        aid = new("ip")
        out["ipam/ip-addresses"].append(
            {"id": aid, "url": _url("ipam/ip-addresses", aid), "address": text,
             "assigned_object_type": kind, "assigned_object_id": target["id"],
             "assigned_object": {"id": target["id"], "name": target["name"]}}
        )  # fmt: skip

    clusters = (hosts + HOSTS_PER_CLUSTER - 1) // HOSTS_PER_CLUSTER
    trunk = [_vlan(v) for v in range(100, 100 + VLANS)]
    vm_number = 0
    for c in range(clusters):
        cref = _brief("virtualization/clusters", c + 1, f"cluster{c:03d}")
        out["virtualization/clusters"].append(
            {**cref, "type": {"id": 1, "name": "VMware vSphere", "slug": "vmware-vsphere"}}
        )
        leaves = []
        for leaf in range(2):
            did = new("device")
            ref = _brief("dcim/devices", did, f"leaf{c:03d}{'ab'[leaf]}.example.com")
            out["dcim/devices"].append({**ref, "device_type": {"id": 1}, "cluster": None})
            leaves.append((ref, []))
        for h in range(c * HOSTS_PER_CLUSTER, min(hosts, (c + 1) * HOSTS_PER_CLUSTER)):
            did = new("device")
            ref = _brief("dcim/devices", did, f"esx{h:04d}")
            out["dcim/devices"].append({**ref, "device_type": {"id": 2}, "cluster": cref})
            for n in range(4):
                nic = iface(ref, f"vmnic{n}", "25gbase-x-sfp28")
                leaf_ref, ports = leaves[n % 2]
                port = iface(leaf_ref, f"Ethernet1/{len(ports) + 1}", "25gbase-x-sfp28",
                             mode=_choice("tagged", "Tagged"), untagged_vlan=None, tagged_vlans=trunk)  # fmt: skip
                ports.append(port)
                cid = new("cable")
                out["dcim/cables"].append(
                    {"id": cid, "url": _url("dcim/cables", cid),
                     "a_terminations": [{"object_type": "dcim.interface", "object_id": nic["id"]}],
                     "b_terminations": [{"object_type": "dcim.interface", "object_id": port["id"]}]}
                )  # fmt: skip
            for k, vid in enumerate((100, 101)):
                vmk = iface(ref, f"vmk{k}", "virtual", mode=_choice("access", "Access"),
                            untagged_vlan=_vlan(vid))  # fmt: skip
                address(vmk, "dcim.interface", f"10.{k}.{h >> 8}.{h & 255}/16")
            for _ in range(vms_per_host):
                vm_number += 1
                vid_ = new("vm")
                vref = _brief("virtualization/virtual-machines", vid_, f"vm{vm_number:06d}")
                out["virtualization/virtual-machines"].append(
                    {**vref, "cluster": cref, "device": ref, "vcpus": 2, "memory": 4096,
                     "role": {"id": 1, "name": "Application"},
                     "tags": [{"id": 1, "name": f"app{vm_number % 17}"}]}
                )  # fmt: skip
                for n in range(1 + vm_number % 2):
                    iid = new("vmif")
                    vmif = {"id": iid, "url": _url("virtualization/interfaces", iid),
                            "virtual_machine": vref, "name": f"eth{n}", "enabled": True,
                            "mode": _choice("access", "Access"),
                            "untagged_vlan": _vlan(102 + (vm_number + n) % (VLANS - 2)), "tagged_vlans": [],
                            "primary_mac_address": {"mac_address": f"00:50:5{6 + n}:{(vm_number >> 16) & 255:02x}:{(vm_number >> 8) & 255:02x}:{vm_number & 255:02x}"}}  # fmt: skip
                    out["virtualization/interfaces"].append(vmif)
                    address(vmif, "virtualization.vminterface", f"10.{128 + n}.{(vm_number >> 8) & 255}.{vm_number & 255}/16")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for endpoint, items in out.items():
        for n, page in enumerate(pages(endpoint, items, 1000), 1):
            (folder / f"{endpoint.replace('/', '_')}.{n:03d}.json").write_bytes(orjson.dumps(page))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms-per-host", type=int, default=50)
    args = parser.parse_args(argv)
    folder = cache_dir() / f"netbox-{args.hosts}x{args.vms_per_host}"
    if not (folder / "done").exists():
        started = time.perf_counter()
        generate(folder, args.hosts, args.vms_per_host)
        (folder / "done").write_text("")
        print(f"generated {folder} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    files = sorted(str(p) for p in folder.glob("*.json"))

    from netseg.importers import ImportRequest, run_import

    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    result = run_import("netbox", ImportRequest(tuple(files)), name="bench", json_form=True)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    counts = result.counts
    print(
        f"netbox: {counts['hosts']} hosts, {counts['guests']} guests, {counts['switches']} "
        f"switches from {len(files)} saved pages: import {seconds:.1f} s (read + join + JSON + "
        f"check; {cpu:.1f} s CPU), peak RSS {rss:.0f} MB, {len(result.warnings)} warnings"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
