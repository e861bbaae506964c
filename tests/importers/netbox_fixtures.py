"""The NetBox fixtures: a small estate as the NetBox 4.x REST API returns it (brief nested
objects, choice fields as ``{"value", "label"}``), and the same estate in NetBox 2.x field names
(``form_factor``, integer choice values, ``termination_a``, IP ``interface``), written as saved
pages (``{"count", "next", "previous", "results"}``, two pages per endpoint where there is more
than one object) or as bare lists. Run ``python -m tests.importers.netbox_fixtures OUT_DIR``.

Shaped for the analysis: a guest in the management VLAN, a tagged-all guest, a trunk that
carries the management VLAN untagged to a host, a LAG to a Xen host, a cluster type netseg does
not model, a VM without a device, a cable to a console port.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

BASE = "http://netbox.example.com"

ENDPOINTS = (
    "dcim/devices",
    "dcim/interfaces",
    "ipam/vlans",
    "ipam/ip-addresses",
    "dcim/cables",
    "virtualization/clusters",
    "virtualization/virtual-machines",
    "virtualization/interfaces",
)


def _url(endpoint: str, ident: int) -> str:
    return f"{BASE}/api/{endpoint}/{ident}/"


def _brief(endpoint: str, ident: int, name: str, **more: Any) -> dict[str, Any]:
    return {"id": ident, "url": _url(endpoint, ident), "display": name, "name": name, **more}


def _choice(value: str, label: str) -> dict[str, str]:
    return {"value": value, "label": label}


VLANS = {1: "default", 10: "mgmt", 20: "vmotion", 30: "xen-guests", 110: "web"}


def _vlan(vid: int) -> dict[str, Any]:
    return {"id": 1000 + vid, "url": _url("ipam/vlans", 1000 + vid), "vid": vid, "name": VLANS[vid]}


def estate() -> dict[str, list[dict[str, Any]]]:
    """The estate's objects per endpoint (NetBox 4.x)."""
    clusters = [
        (1, "prod-vsphere", "VMware vSphere", "vmware-vsphere"),
        (2, "hv-cluster", "Hyper-V", "hyper-v"),
        (3, "xen-pool", "XCP-ng", "xcp-ng"),
        (4, "k8s", "Kubernetes", "kubernetes"),
    ]
    out: dict[str, list[dict[str, Any]]] = {e: [] for e in ENDPOINTS}
    for cid, name, tname, slug in clusters:
        out["virtualization/clusters"].append(
            {"id": cid, "url": _url("virtualization/clusters", cid), "name": name,
             "type": {"id": cid, "url": _url("virtualization/cluster-types", cid), "name": tname, "slug": slug},
             "status": _choice("active", "Active")}
        )  # fmt: skip
    cluster_ref = {
        cid: _brief("virtualization/clusters", cid, name) for cid, name, _, _ in clusters
    }
    devices = [
        # id, name, role, cluster
        (1, "tor1.example.com", "Leaf switch", None),
        (2, "tor2.example.com", "Leaf switch", None),
        (3, "esx01", "Hypervisor", 1),
        (4, "esx02", "Hypervisor", 1),
        (5, "hv01", "Hypervisor", 2),
        (6, "xen01", "Hypervisor", 3),
        (7, "k8s-node1", "Server", 4),
        (8, "pp1", "Patch panel", None),
        (9, "jumpbox1", "Jump server", None),
    ]
    ref: dict[int, dict[str, Any]] = {}
    for did, name, role, cid in devices:
        ref[did] = _brief("dcim/devices", did, name)
        out["dcim/devices"].append(
            {"id": did, "url": _url("dcim/devices", did), "name": name,
             "device_type": {"id": 1, "model": "generic", "slug": "generic"},
             "role": {"id": did, "name": role, "slug": role.lower().replace(" ", "-")},
             "cluster": cluster_ref[cid] if cid else None, "status": _choice("active", "Active")}
        )  # fmt: skip
    ifaces = [
        # id, device, name, type, mode, untagged, tagged, lag, mgmt_only, enabled
        (
            101,
            1,
            "Ethernet1/1",
            "25gbase-x-sfp28",
            "tagged",
            None,
            [10, 20, 110],
            None,
            False,
            True,
        ),
        (102, 1, "Ethernet1/2", "25gbase-x-sfp28", "tagged-all", 10, [], None, False, True),
        (103, 1, "Ethernet1/3", "10gbase-t", "access", 110, [], None, False, True),
        (104, 1, "Port-Channel1", "lag", "tagged", 10, [30], None, False, True),
        (105, 1, "Ethernet1/10", "10gbase-t", None, None, [], 104, False, True),
        (106, 1, "Ethernet1/11", "10gbase-t", None, None, [], 104, False, True),
        (107, 1, "Ethernet1/47", "10gbase-t", "access", None, [], None, False, False),
        (
            108,
            1,
            "Ethernet1/48",
            "100gbase-x-qsfp28",
            "tagged",
            1,
            [10, 20, 30, 110],
            None,
            False,
            True,
        ),
        (109, 1, "Vlan10", "virtual", None, None, [], None, False, True),
        (110, 1, "mgmt0", "1000base-t", None, None, [], None, True, True),
        (
            201,
            2,
            "Ethernet1/48",
            "100gbase-x-qsfp28",
            "tagged",
            1,
            [10, 20, 30, 110],
            None,
            False,
            True,
        ),
        (301, 3, "vmnic0", "25gbase-x-sfp28", None, None, [], None, False, True),
        (302, 3, "vmnic1", "25gbase-x-sfp28", None, None, [], None, False, True),
        (303, 3, "vmk0", "virtual", "access", 10, [], None, False, True),
        (304, 3, "vmk1", "virtual", "access", 20, [], None, False, True),
        (305, 3, "iDRAC", "1000base-t", None, None, [], None, True, True),
        (401, 4, "vmnic0", "25gbase-x-sfp28", None, None, [], None, False, True),
        (403, 4, "vmk0", "virtual", "access", 10, [], None, False, True),
        (501, 5, "NIC1", "10gbase-t", None, None, [], None, False, True),
        (502, 5, "vEthernet (External)", "virtual", None, None, [], None, False, True),
        (601, 6, "eth0", "10gbase-t", None, None, [], None, False, True),
        (602, 6, "eth1", "10gbase-t", None, None, [], None, False, True),
        (603, 6, "xenbr0", "bridge", None, None, [], None, False, True),
        (701, 7, "eno1", "10gbase-t", None, None, [], None, False, True),
        (111, 1, "Ethernet1/20", "10gbase-t", "access", 10, [], None, False, True),
        (901, 9, "eno1", "1000base-t", None, None, [], None, False, True),
    ]
    iref: dict[int, dict[str, Any]] = {}
    for iid, did, name, kind, mode, untagged, tagged, lag, mgmt, enabled in ifaces:
        iref[iid] = _brief("dcim/interfaces", iid, name, device=ref[did])
        out["dcim/interfaces"].append(
            {"id": iid, "url": _url("dcim/interfaces", iid), "device": ref[did], "name": name,
             "type": _choice(kind, kind.upper()), "enabled": enabled,
             "lag": iref[lag] if lag else None, "mtu": None, "mac_address": None,
             "mgmt_only": mgmt, "description": "",
             "mode": _choice(mode, mode.capitalize()) if mode else None,
             "untagged_vlan": _vlan(untagged) if untagged else None,
             "tagged_vlans": [_vlan(v) for v in tagged], "cable": None}
        )  # fmt: skip
    for vid, name in VLANS.items():
        out["ipam/vlans"].append(
            {"id": 1000 + vid, "url": _url("ipam/vlans", 1000 + vid), "vid": vid, "name": name,
             "status": _choice("active", "Active"), "group": None, "site": None}
        )  # fmt: skip
    cables = [
        (1, 101, 301),
        (2, 102, 401),
        (3, 103, 501),
        (4, 108, 201),
        (5, 105, 601),
        (6, 106, 602),
        (7, 302, None),  # to a patch panel's front port
        (8, 110, "console"),  # to a console port: not a network link
        (9, 111, 901),  # a server on an access port: an endpoint
    ]
    for cid, a, b in cables:
        a_terms = [{"object_type": "dcim.interface", "object_id": a, "object": iref[a]}]
        if b is None:
            b_terms = [{"object_type": "dcim.frontport", "object_id": 1,
                        "object": {"id": 1, "name": "1", "device": ref[8]}}]  # fmt: skip
        elif b == "console":
            b_terms = [{"object_type": "dcim.consoleport", "object_id": 1,
                        "object": {"id": 1, "name": "console", "device": ref[8]}}]  # fmt: skip
        else:
            b_terms = [{"object_type": "dcim.interface", "object_id": b, "object": iref[int(b)]}]
        out["dcim/cables"].append(
            {"id": cid, "url": _url("dcim/cables", cid), "type": "cat6",
             "a_terminations": a_terms, "b_terminations": b_terms, "status": _choice("connected", "Connected")}
        )  # fmt: skip
    vms = [
        # id, name, cluster, device, role, tags
        (1, "web01", 1, 3, "Web server", ["prod", "dmz"]),
        (2, "db01", 1, None, "Database", ["prod"]),
        (3, "ids01", 1, 4, "Sensor", ["security"]),
        (4, "trunk01", 1, 4, "Router", []),
        (5, "jump01", 1, 4, "Jump host", ["admin"]),
        (6, "hv-app01", 2, 5, "Application", []),
        (7, "xen-vm01", 3, 6, "Application", []),
        (8, "pod01", 4, 7, "Container host", []),
    ]
    vref: dict[int, dict[str, Any]] = {}
    for vid_, name, cid, did, role, tags in vms:
        vref[vid_] = _brief("virtualization/virtual-machines", vid_, name)
        out["virtualization/virtual-machines"].append(
            {"id": vid_, "url": _url("virtualization/virtual-machines", vid_), "name": name,
             "status": _choice("active", "Active"), "cluster": cluster_ref[cid],
             "device": ref[did] if did else None,
             "role": {"id": vid_, "name": role, "slug": role.lower().replace(" ", "-")},
             "tenant": None, "platform": None, "primary_ip4": None, "vcpus": 2, "memory": 4096,
             "tags": [{"id": i, "name": t, "slug": t} for i, t in enumerate(tags)],
             "custom_fields": {"owner": "ops" if name.startswith("hv") else None}}
        )  # fmt: skip
    vm_ifaces = [
        # id, vm, name, mode, untagged, tagged, mac
        (1, 1, "eth0", "access", 110, [], "00:50:56:A0:01:01"),
        (2, 2, "eth0", "access", 110, [], "00:50:56:a0:02:01"),
        (3, 3, "eth0", "tagged-all", None, [], "00:50:56:a0:03:01"),
        (4, 4, "eth0", "tagged", None, [110, 20], "00:50:56:a0:04:01"),
        (5, 5, "eth0", "access", 10, [], "00:50:56:a0:05:01"),
        (6, 6, "Network Adapter", None, None, [], "00-15-5D-00-06-01"),
        (7, 7, "eth0", "access", 30, [], "00:16:3e:00:07:01"),
        (8, 8, "eth0", "access", 30, [], "00:16:3e:00:08:01"),
        (9, 1, "eth1", "access", 110, [], None),
    ]
    viref: dict[int, dict[str, Any]] = {}
    for iid, vm, name, mode, untagged, tagged, mac in vm_ifaces:
        viref[iid] = _brief("virtualization/interfaces", iid, name, virtual_machine=vref[vm])
        out["virtualization/interfaces"].append(
            {"id": iid, "url": _url("virtualization/interfaces", iid), "virtual_machine": vref[vm],
             "name": name, "enabled": True, "mtu": None, "description": "",
             "mode": _choice(mode, mode.capitalize()) if mode else None,
             "untagged_vlan": _vlan(untagged) if untagged else None,
             "tagged_vlans": [_vlan(v) for v in tagged],
             "primary_mac_address": {"id": iid, "mac_address": mac} if mac else None}
        )  # fmt: skip
    addresses = [
        # id, interface kind, interface id, address
        (1, "dcim.interface", 303, "192.0.2.11/27"),
        (2, "dcim.interface", 304, "192.0.2.41/27"),
        (3, "dcim.interface", 403, "192.0.2.12/27"),
        (4, "dcim.interface", 305, "192.0.2.201/27"),
        (5, "dcim.interface", 502, "198.51.100.2/27"),
        (6, "dcim.interface", 603, "192.0.2.13/27"),
        (7, "virtualization.vminterface", 1, "198.51.100.11/26"),
        (8, "virtualization.vminterface", 1, "2001:db8:110::11/64"),
        (9, "virtualization.vminterface", 2, "198.51.100.12/26"),
        (10, "virtualization.vminterface", 5, "192.0.2.20/27"),
        (11, "virtualization.vminterface", 7, "203.0.113.7/27"),
        (12, "dcim.interface", 109, "192.0.2.1/27"),
        (13, "dcim.interface", 901, "192.0.2.30/27"),
    ]
    for aid, kind, target, address in addresses:
        obj = iref[target] if kind == "dcim.interface" else viref[target]
        out["ipam/ip-addresses"].append(
            {"id": aid, "url": _url("ipam/ip-addresses", aid), "address": address,
             "assigned_object_type": kind, "assigned_object_id": target, "assigned_object": obj,
             "status": _choice("active", "Active")}
        )  # fmt: skip
    return out


_FORM_FACTOR = {"virtual": (0, "Virtual"), "lag": (200, "Link Aggregation Group (LAG)"),
                "bridge": (0, "Virtual")}  # fmt: skip
_MODE_2X = {"access": 100, "tagged": 200, "tagged-all": 300}


def netbox2(objects: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The same estate in NetBox 2.x field names."""
    out = copy.deepcopy(objects)
    for body in out["dcim/interfaces"] + out["virtualization/interfaces"]:
        if "type" in body:
            kind = body.pop("type")["value"]
            value, label = _FORM_FACTOR.get(kind, (1200, kind.upper()))
            body["form_factor"] = {"value": value, "label": label}
        if body.get("mode"):
            body["mode"] = {
                "value": _MODE_2X[body["mode"]["value"]],
                "label": body["mode"]["label"],
            }
        mac = body.pop("primary_mac_address", None)
        if "virtual_machine" in body:
            body["mac_address"] = mac["mac_address"] if mac else None
    for body in out["dcim/devices"]:
        body["device_role"] = body.pop("role")
    for body in out["ipam/ip-addresses"]:
        body["interface"] = body.pop("assigned_object")
        del body["assigned_object_type"], body["assigned_object_id"]
    for body in out["dcim/cables"]:
        for side in ("a", "b"):
            (term,) = body.pop(f"{side}_terminations")
            body[f"termination_{side}_type"] = term["object_type"]
            body[f"termination_{side}_id"] = term["object_id"]
            body[f"termination_{side}"] = term["object"]
    return out


def pages(endpoint: str, items: list[dict[str, Any]], size: int = 0) -> list[dict[str, Any]]:
    """Saved pages of one endpoint, linked by ``next`` (two pages unless ``size`` is given)."""
    size = size or max(1, (len(items) + 1) // 2)
    chunks = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
    out = []
    for n, chunk in enumerate(chunks):
        nxt = f"{BASE}/api/{endpoint}/?limit={size}&offset={(n + 1) * size}"
        prev = f"{BASE}/api/{endpoint}/?limit={size}&offset={(n - 1) * size}" if n else None
        out.append(
            {"count": len(items), "next": nxt if n + 1 < len(chunks) else None, "previous": prev,
             "results": chunk}
        )  # fmt: skip
    return out


def write_pages(folder: Path, objects: dict[str, list[dict[str, Any]]] | None = None) -> list[Path]:
    """One file per page, named as ``curl`` users save them (``dcim_devices.1.json``)."""
    objects = estate() if objects is None else objects
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for endpoint, items in objects.items():
        for n, page in enumerate(pages(endpoint, items), 1):
            path = folder / f"{endpoint.replace('/', '_')}.{n}.json"
            path.write_text(json.dumps(page, indent=2) + "\n", encoding="utf-8")
            files.append(path)
    return files


def write_lists(folder: Path, objects: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """One bare list per endpoint (what ``pynetbox`` users dump with ``[dict(r) for r in …]``)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for endpoint, items in objects.items():
        path = folder / f"{endpoint.replace('/', '_')}.json"
        path.write_text(json.dumps(items, indent=1) + "\n", encoding="utf-8")
        files.append(path)
    return files


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    for path in write_pages(out / "netbox4") + write_lists(out / "netbox2", netbox2(estate())):
        print(path)
