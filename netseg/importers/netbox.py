"""``netseg import netbox``: the NetBox REST API's JSON, from saved pages or live (pynetbox).

What is read (NetBox 2.x to 4.x field names):

==========================  ========================================================================
dcim/devices                switches (devices with 802.1Q interfaces) and hypervisor hosts (cluster
                            members)
dcim/interfaces             switch ports (mode, untagged and tagged VLANs, LAG parents), host NICs
ipam/vlans                  VLAN ids of interfaces that name a VLAN by id only; VLAN names as
                            zone-rule facts
ipam/ip-addresses           addresses of host interfaces (management) and VM interfaces
dcim/cables                 links: switch to switch (``links``), switch to host NIC (the NIC's
                            ``switch``/``port``)
virtualization/clusters     the hypervisor of the cluster's hosts (from the cluster type)
virtualization/             guests (host: the VM's device, else the first host of its cluster)
  virtual-machines
virtualization/interfaces   guest NICs (mode, VLANs, MAC)
==========================  ========================================================================

NetBox does not model virtual switches, so each host gets one, named ``netbox``, uplinked to its
physical NICs, with the VMs' VLANs as its only configuration. How objects join, what is assumed
and what is warned about is in docs/importing.md ("netbox").
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import orjson

from netseg.errors import ImportSourceError
from netseg.importers.base import Imported, ImportRequest, unique_macs
from netseg.importers.naming import natural_key

__all__ = ["ENDPOINTS", "NetBoxImporter"]

#: the API endpoints read, as (app, endpoint) -> the kind this module calls it
ENDPOINTS: Mapping[tuple[str, str], str] = {
    ("dcim", "devices"): "device",
    ("dcim", "interfaces"): "interface",
    ("ipam", "vlans"): "vlan",
    ("ipam", "ip-addresses"): "ip",
    ("dcim", "cables"): "cable",
    ("virtualization", "clusters"): "cluster",
    ("virtualization", "virtual-machines"): "vm",
    ("virtualization", "interfaces"): "vminterface",
}
_PATH_OF = {kind: f"{app}/{endpoint}" for (app, endpoint), kind in ENDPOINTS.items()}
_URL = re.compile(r"/api/([a-z-]+)/([a-z-]+)/\d+/?$")

# cluster type (name or slug, lower case) -> hypervisor
_HYPERVISORS = (
    ("vmware", "esxi"),
    ("vsphere", "esxi"),
    ("esxi", "esxi"),
    ("hyper-v", "hyperv"),
    ("hyperv", "hyperv"),
    ("xen", "xen"),
    ("xcp", "xen"),
)
_VSWITCH = "netbox"
_CANONICAL = re.compile(
    r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"/(?:3[0-2]|[12]?\d)"
)


# --- reading the objects ------------------------------------------------------------------------


@dataclass
class _Object:
    kind: str
    body: dict[str, Any]
    source: str


def _kind_of(body: dict[str, Any]) -> str | None:
    """Which endpoint an object came from: its ``url`` when present, else its shape."""
    url = body.get("url")
    if isinstance(url, str):
        m = _URL.search(url)
        if m and (m.group(1), m.group(2)) in ENDPOINTS:
            return ENDPOINTS[(m.group(1), m.group(2))]
    if "virtual_machine" in body and "name" in body:
        return "vminterface"
    if "device" in body and "name" in body and ("type" in body or "form_factor" in body):
        return "interface"
    if "vid" in body:
        return "vlan"
    if isinstance(body.get("address"), str) and "/" in body["address"]:
        return "ip"
    if any(k in body for k in ("a_terminations", "termination_a", "termination_a_id")):
        return "cable"
    if "device_type" in body:
        return "device"
    if "cluster" in body and any(k in body for k in ("vcpus", "memory", "disk", "primary_ip")):
        return "vm"
    kind = body.get("type")
    if isinstance(kind, dict) and "name" in body and ("slug" in kind or "name" in kind):
        return "cluster"
    return None


def _objects_of(value: Any, file: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        items = value["results"]  # a page: {"count", "next", "previous", "results"}
    elif isinstance(value, list):
        items = value
    elif isinstance(value, dict):
        items = [value]
    else:
        raise ImportSourceError(file, "expected NetBox API JSON: a page, a list or an object")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ImportSourceError(file, f"result {i} is not a JSON object")
        yield i, item


def read_file(path: str) -> list[_Object]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportSourceError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ImportSourceError(path, f"not JSON ({exc})") from None
    name = Path(path).name
    out = []
    for i, body in _objects_of(value, path):
        kind = _kind_of(body)
        if kind is None:
            keys = ", ".join(sorted(body)[:8])
            raise ImportSourceError(
                path,
                f"result {i} is not a NetBox object of the endpoints read "
                f"({', '.join(_PATH_OF.values())}): it has {keys or 'no keys'}",
            )
        out.append(_Object(kind, body, f"{name} {_PATH_OF[kind]}/{body.get('id', i)}"))
    return out


def read_live(url: str, token: str | None) -> list[_Object]:
    """Every object of the endpoints read, through pynetbox (pages followed by pynetbox)."""
    try:
        import pynetbox
        import requests
    except ImportError:
        raise ImportSourceError(
            "--url",
            "needs pynetbox: netseg's netbox extra, or pip install pynetbox (saved pages need "
            "nothing)",
        ) from None

    class _Session(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> requests.Response:
            kwargs.setdefault("timeout", 30)  # an address that never answers ends, too
            return super().request(*args, **kwargs)

    if not re.match(r"https?://[^/\s]+", url):
        raise ImportSourceError("--url", f"{url!r} is not an http:// or https:// address")
    api = pynetbox.api(url.rstrip("/"), token=token)
    api.http_session = _Session()
    out = []
    for (app, endpoint), kind in ENDPOINTS.items():
        name = endpoint.replace("-", "_")
        try:
            records = getattr(getattr(api, app), name).all()
            bodies = [dict(r) for r in records]
        except pynetbox.RequestError as exc:
            status = getattr(exc.req, "status_code", "?")
            hint = " (is NETSEG_NETBOX_TOKEN a valid token?)" if status in (401, 403) else ""
            raise ImportSourceError(
                f"{url.rstrip('/')}/api/{app}/{endpoint}/",
                f"NetBox answered HTTP {status}{hint}",
            ) from None
        except pynetbox.ContentError:
            raise ImportSourceError(
                f"{url.rstrip('/')}/api/{app}/{endpoint}/",
                "the answer is not NetBox API JSON (is --url the NetBox address?)",
            ) from None
        except requests.RequestException as exc:
            raise ImportSourceError(
                "--url", f"cannot reach NetBox at {url}: {_reason(exc)}"
            ) from None
        for body in bodies:
            out.append(_Object(kind, body, f"netbox {app}/{endpoint}/{body.get('id')}"))
    return out


def _reason(exc: Exception) -> str:
    text = str(exc.__context__ or exc)
    for hint in ("Connection refused", "Name or service not known", "timed out", "certificate"):
        if hint.lower() in text.lower():
            return hint.lower() if hint != "certificate" else "the TLS certificate was refused"
    return type(exc).__name__


# --- values ---------------------------------------------------------------------------------------


def _choice(value: Any) -> str:
    """A NetBox choice field as lower-case text: ``{"value", "label"}`` (2.x to 4.x), or a plain
    string."""
    if isinstance(value, dict):
        inner = value.get("value")
        if isinstance(inner, str):
            return inner.lower()
        return str(value.get("label") or "").lower()
    return str(value or "").lower()


_MODES = {
    "access": "access",
    "100": "access",
    "tagged": "tagged",
    "200": "tagged",
    "tagged-all": "tagged-all",
    "tagged (all)": "tagged-all",
    "300": "tagged-all",
    "q-in-q": "q-in-q",
}


def _mode(body: dict[str, Any]) -> str | None:
    """``access``, ``tagged``, ``tagged-all``, ``q-in-q``, ``?OTHER``, or None (no mode): 4.x
    ``{"value": "tagged", "label": "Tagged"}``, 2.x ``{"value": 200, "label": "Tagged"}``, or a
    plain string."""
    mode = body.get("mode")
    if mode is None or mode == "":
        return None
    candidates = [mode.get("value"), mode.get("label")] if isinstance(mode, dict) else [mode]
    for candidate in candidates:
        key = str(candidate).lower() if candidate is not None else ""
        if key in _MODES:
            return _MODES[key]
    return f"?{candidates[0]}"


def _iface_type(body: dict[str, Any]) -> str:
    """``virtual``, ``lag`` or ``physical`` from 4.x ``type`` or 2.x ``form_factor``."""
    value = body.get("type", body.get("form_factor"))
    raw = value.get("value") if isinstance(value, dict) else value
    label = str(value.get("label", "")).lower() if isinstance(value, dict) else ""
    text = str(raw).lower()
    if text in ("virtual", "0", "bridge") or label.startswith("virtual") or text == "vxlan":
        return "virtual"
    if text in ("lag", "200") or "link aggregation" in label:
        return "lag"
    return "physical"


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        found = value.get("name")
        return str(found) if found is not None else None
    return None


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _mac(value: Any) -> str | None:
    if isinstance(value, dict):  # 4.2+: primary_mac_address {"mac_address": ...}
        value = value.get("mac_address")
    if not isinstance(value, str):
        return None
    hexes = re.sub(r"[^0-9A-Fa-f]", "", value)
    if len(hexes) != 12:
        return None
    return ":".join(hexes[i : i + 2] for i in range(0, 12, 2)).lower()


def _switch_name(device: str) -> str:
    """A switch by its hostname without the domain (the naming every importer shares)."""
    try:
        ipaddress.ip_address(device)
        return device
    except ValueError:
        return device.split(".", 1)[0]


# --- the estate -----------------------------------------------------------------------------------


@dataclass
class _Iface:
    body: dict[str, Any]
    source: str
    device: str  # device (or VM) name
    addresses: list[str] = field(default_factory=list)


class _Estate:
    def __init__(self, objects: Iterable[_Object]) -> None:
        self.out = Imported()
        self.by_kind: dict[str, list[_Object]] = {kind: [] for kind in _PATH_OF}
        seen: set[tuple[str, Any]] = set()
        for obj in objects:
            ident = (obj.kind, obj.body.get("id"))
            if ident[1] is not None and ident in seen:
                continue  # the same object saved twice (a page and a detail view)
            seen.add(ident)
            self.by_kind[obj.kind].append(obj)
        for found in self.by_kind.values():
            # the order of the files given must not matter: objects by id, as NetBox keys them
            found.sort(key=lambda o: (not isinstance(o.body.get("id"), int), o.body.get("id") or 0))
        self.hypervisor_of: dict[Any, str | None] = {}
        self.vlans: dict[Any, dict[str, Any]] = {}
        for obj in self.by_kind["vlan"]:
            self.vlans[obj.body.get("id")] = obj.body

    # - lookups

    def vid(self, nested: Any, source: str) -> int | None:
        if not isinstance(nested, dict):
            return None
        vid = nested.get("vid")
        if vid is None:
            vid = self.vlans.get(nested.get("id"), {}).get("vid")
        if isinstance(vid, int) and 1 <= vid <= 4094:
            return vid
        self.out.warn(source, f"VLAN {nested.get('name') or nested.get('id')!r} has no VLAN id")
        return None

    def vlan_names(self, body: dict[str, Any]) -> list[str]:
        names = []
        for nested in [body.get("untagged_vlan"), *(body.get("tagged_vlans") or [])]:
            if isinstance(nested, dict):
                name = nested.get("name") or self.vlans.get(nested.get("id"), {}).get("name")
                if name:
                    names.append(str(name))
        return names

    # - the document

    def document(self) -> Imported:
        devices = self.unique("device")
        vms = self.unique("vm")
        clusters = {obj.body.get("id"): obj for obj in self.by_kind["cluster"]}
        ifaces: dict[Any, _Iface] = {}
        by_device: dict[str, list[_Iface]] = {}
        for obj in self.by_kind["interface"]:
            device = _name(obj.body.get("device"))
            if device is None:
                continue
            iface = _Iface(obj.body, obj.source, device)
            ifaces[obj.body.get("id")] = iface
            by_device.setdefault(device, []).append(iface)
        vm_ifaces: dict[Any, _Iface] = {}
        by_vm: dict[str, list[_Iface]] = {}
        for obj in self.by_kind["vminterface"]:
            vm = _name(obj.body.get("virtual_machine"))
            if vm is None:
                continue
            iface = _Iface(obj.body, obj.source, vm)
            vm_ifaces[obj.body.get("id")] = iface
            by_vm.setdefault(vm, []).append(iface)
        self.assign_addresses(ifaces, vm_ifaces)

        # hosts: the devices that are members of a cluster of a hypervisor netseg models
        hypervisor_of = self.hypervisor_of
        for cid, obj in clusters.items():
            hypervisor_of[cid] = self.hypervisor(obj)
        hosts: dict[str, tuple[_Object, str]] = {}
        for name, obj in devices.items():
            cid = _id(obj.body.get("cluster"))
            if cid is None:
                continue
            if cid not in hypervisor_of:
                self.out.warn(obj.source, f"device {name} is in cluster {cid!r}, which is not read")
                continue
            hypervisor = hypervisor_of[cid]
            if hypervisor is not None:
                hosts[name] = (obj, hypervisor)
        # switches: the other devices with 802.1Q interfaces
        switches: dict[str, list[dict[str, Any]]] = {}
        port_of: dict[Any, tuple[str, str]] = {}  # interface id -> (switch, port)
        # (a device known only from its interfaces is taken as what its interfaces say)
        sources = {name: obj.source for name, obj in devices.items()}
        for name, found in by_device.items():
            sources.setdefault(name, found[0].source)
        switch_source: dict[str, str] = {}
        for name in sorted(sources, key=natural_key):
            if name in hosts:
                continue
            ports = self.switch_ports(by_device.get(name, []), port_of, _switch_name(name))
            if not ports:
                continue
            if _switch_name(name) in switches:
                self.out.warn(
                    sources[name],
                    f"switch {_switch_name(name)!r} (device {name}) was already read from "
                    f"{switch_source[_switch_name(name)]}; keeping that one",
                )
                continue
            switches[_switch_name(name)] = ports
            switch_source[_switch_name(name)] = sources[name]
        # cables
        nic_link: dict[Any, tuple[str, str]] = {}
        links: list[list[str]] = []
        cabled: set[frozenset[Any]] = set()
        # devices cabled to a switch port that are neither hosts nor switches: endpoints
        attached: dict[str, list[tuple[_Iface, tuple[str, str]]]] = {}
        excluded = {
            name
            for name, obj in devices.items()
            if hypervisor_of.get(_id(obj.body.get("cluster")), "") is None
        }
        for a, b, source in self.cable_ends():
            if frozenset((a, b)) in cabled:
                continue  # a cable, and the interface's own view of it
            cabled.add(frozenset((a, b)))
            ia, ib = ifaces.get(a), ifaces.get(b)
            if ia is None or ib is None:
                continue
            ends = [(ia, a), (ib, b)]
            if a in port_of and b in port_of:
                links.append([":".join(port_of[a]), ":".join(port_of[b])])
                continue
            for (mine, mine_id), (other, other_id) in (ends, ends[::-1]):
                if (
                    mine.device not in hosts
                    and mine_id not in port_of
                    and other_id in port_of
                    and mine.device not in excluded
                    and _iface_type(mine.body) == "physical"
                ):
                    attached.setdefault(mine.device, []).append((mine, port_of[other_id]))
                if mine.device not in hosts:
                    continue
                if other_id in port_of:
                    nic_link[mine_id] = port_of[other_id]
                elif other.device not in hosts:
                    self.out.warn(
                        source,
                        f"{mine.device} {mine.body.get('name')} is cabled to {other.device} "
                        f"{other.body.get('name')}, which is no 802.1Q switch port; the NIC "
                        "is left uncabled",
                    )
        # guests, placed on hosts
        placed = self.guests(vms, by_vm, hosts, clusters)
        for name in sorted(switches, key=natural_key):
            self.out.entities("switches").append(
                {
                    "name": name,
                    "source": switch_source[name],
                    "ports": switches[name],
                }
            )
        if links:
            self.out.document.setdefault("links", []).extend(sorted(links))
        for device in sorted(attached, key=natural_key):
            self.endpoints(device, devices.get(device), attached[device])
        for name in sorted(hosts, key=natural_key):
            obj, hypervisor = hosts[name]
            self.out.entities("hosts").append(
                self.host(name, obj, hypervisor, by_device.get(name, []), nic_link, placed)
            )
        return self.out

    def endpoints(
        self,
        device: str,
        obj: _Object | None,
        ports: list[tuple[_Iface, tuple[str, str]]],
    ) -> None:
        """A server, firewall or appliance on a switch port: one endpoint per cabled interface
        (``DEVICE`` alone, or ``DEVICE IFACE`` when several are cabled)."""
        for iface, (switch, port) in sorted(
            ports, key=lambda p: natural_key(str(p[0].body.get("name")))
        ):
            name = device if len(ports) == 1 else f"{device} {iface.body.get('name')}"
            entity: dict[str, Any] = {
                "name": name,
                "source": iface.source,
                "switch": switch,
                "port": port,
            }
            mac = _mac(iface.body.get("primary_mac_address") or iface.body.get("mac_address"))
            if mac:
                entity["mac"] = mac
            entity.update(_addr(iface))
            facts = _facts(obj.body, []) if obj is not None else {}
            if facts:
                entity["_facts"] = facts
            self.out.entities("endpoints").append(entity)

    def unique(self, kind: str) -> dict[str, _Object]:
        out: dict[str, _Object] = {}
        for obj in self.by_kind[kind]:
            name = obj.body.get("name")
            if not name:
                self.out.warn(obj.source, f"{kind} without a name; left out")
                continue
            if name in out:
                self.out.warn(
                    obj.source, f"{kind} name {name!r} is also {out[name].source}; keeping that one"
                )
                continue
            out[str(name)] = obj
        return out

    def hypervisor(self, cluster: _Object) -> str | None:
        kind = cluster.body.get("type")
        if isinstance(kind, dict):
            words = str(kind.get("name") or kind.get("slug") or "")
            low = f"{words} {kind.get('slug') or ''}".lower()
        else:
            words = str(kind or "")
            low = words.lower()
        for needle, hypervisor in _HYPERVISORS:
            if needle in low:
                return hypervisor
        self.out.warn(
            cluster.source,
            f"cluster {cluster.body.get('name')!r} has type {words.strip() or 'none'!r}, not "
            "VMware, Hyper-V or Xen; its hosts and VMs are left out",
        )
        return None

    def assign_addresses(self, ifaces: dict[Any, _Iface], vm_ifaces: dict[Any, _Iface]) -> None:
        for obj in self.by_kind["ip"]:
            body = obj.body
            kind = str(body.get("assigned_object_type") or "")
            target = body.get("assigned_object_id")
            nested = body.get("assigned_object") or body.get("interface")  # 4.x / 2.x
            if target is None and isinstance(nested, dict):
                target = nested.get("id")
                if not kind:
                    kind = (
                        "virtualization.vminterface"
                        if nested.get("virtual_machine")
                        else "dcim.interface"
                    )
            table = (
                vm_ifaces
                if kind.endswith("vminterface")
                else ifaces
                if kind.endswith(".interface")
                else None
            )
            if table is None or target not in table:
                continue
            address = str(body.get("address"))
            if not _CANONICAL.fullmatch(address):  # NetBox writes them canonically: the fast path
                try:
                    address = str(ipaddress.ip_interface(address))
                except ValueError:
                    self.out.warn(obj.source, f"address {address!r} is not an address")
                    continue
            table[target].addresses.append(address)

    def cable_ends(self) -> Iterator[tuple[Any, Any, str]]:
        """(interface id, interface id, source) of every cable between two device interfaces,
        from dcim/cables (4.x ``a_terminations``/``b_terminations``, 2.x ``termination_a``)."""
        for obj in self.by_kind["cable"]:
            body = obj.body
            ends = []
            for side in ("a", "b"):
                terms = body.get(f"{side}_terminations")
                if isinstance(terms, list):
                    ids = [
                        t.get("object_id", _id(t.get("object")))
                        for t in terms
                        if isinstance(t, dict)
                        and str(t.get("object_type", "dcim.interface")) == "dcim.interface"
                    ]
                else:
                    kind = str(body.get(f"termination_{side}_type", "dcim.interface"))
                    ids = (
                        [body.get(f"termination_{side}_id", _id(body.get(f"termination_{side}")))]
                        if kind == "dcim.interface"
                        else []
                    )
                ends.append(ids)
            if len(ends[0]) == 1 and len(ends[1]) == 1:
                yield ends[0][0], ends[1][0], obj.source
            elif ends[0] and ends[1]:
                self.out.warn(obj.source, "a cable with several terminations per side; left out")
        # the far end through patch panels: connected_endpoints (3.x+), connected_endpoint (2.x)
        for obj in self.by_kind["interface"]:
            body = obj.body
            kind = str(
                body.get("connected_endpoints_type") or body.get("connected_endpoint_type") or ""
            )
            if kind != "dcim.interface":
                continue
            far = body.get("connected_endpoints") or [body.get("connected_endpoint")]
            if len(far) == 1 and isinstance(far[0], dict) and far[0].get("id") is not None:
                yield body.get("id"), far[0]["id"], obj.source

    # - switches

    def switch_ports(
        self, ifaces: list[_Iface], port_of: dict[Any, tuple[str, str]], switch: str
    ) -> list[dict[str, Any]]:
        lags = {i.body.get("id"): i for i in ifaces if _iface_type(i.body) == "lag"}
        ports = []
        # in NetBox's own order: by name, naturally (Ethernet1/2 before Ethernet1/10)
        for iface in sorted(ifaces, key=lambda i: natural_key(str(i.body.get("name")))):
            body = iface.body
            if _iface_type(body) != "physical" or body.get("enabled") is False:
                continue
            carrier = iface
            if _mode(body) is None and _id(body.get("lag")) in lags:
                carrier = lags[_id(body.get("lag"))]  # a LAG member carries its LAG's VLANs
            port = self.port(carrier, iface)
            if port is not None:
                ports.append(port)
                port_of[body.get("id")] = (switch, port["name"])
        return ports

    def port(self, carrier: _Iface, iface: _Iface) -> dict[str, Any] | None:
        mode = _mode(carrier.body)
        if mode is None:
            return None
        port: dict[str, Any] = {"name": str(iface.body.get("name")), "source": iface.source}
        untagged = self.vid(carrier.body.get("untagged_vlan"), carrier.source)
        if mode == "access":
            if untagged is None:
                self.out.warn(
                    iface.source, "access port without an untagged VLAN: VLAN 1, the default"
                )
            return {**port, "mode": "access", "vlan": untagged or 1}
        if mode in ("tagged", "tagged-all", "q-in-q"):
            if mode == "tagged":
                vids = sorted(
                    {
                        v
                        for v in (
                            self.vid(t, carrier.source)
                            for t in carrier.body.get("tagged_vlans") or []
                        )
                        if v is not None
                    }
                )
                allowed: Any = _vlan_set(vids) if vids else []
                if not vids:
                    self.out.warn(iface.source, "tagged port with no tagged VLANs: none allowed")
            else:
                allowed = "all"
            port.update({"mode": "trunk", "allowed": allowed, "native": untagged or 1})
            if mode == "q-in-q":
                port["qinq"] = True
            return port
        self.out.warn(iface.source, f"802.1Q mode {mode[1:]!r} is not one netseg models; left out")
        return None

    # - guests and hosts

    def guests(
        self,
        vms: dict[str, _Object],
        by_vm: dict[str, list[_Iface]],
        hosts: dict[str, tuple[_Object, str]],
        clusters: dict[Any, _Object],
    ) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """Guests (written out), and per host the (NIC, VLAN spec) its vswitch must carry."""
        members: dict[Any, list[str]] = {}
        for name, (obj, _) in hosts.items():
            members.setdefault(_id(obj.body.get("cluster")), []).append(name)
        unplaced: dict[Any, int] = {}
        unmoded = 0
        first_unmoded = ""
        needs: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for name in sorted(vms, key=natural_key):
            obj = vms[name]
            body = obj.body
            cid = _id(body.get("cluster"))
            host = _name(body.get("device"))
            if cid in self.hypervisor_of and self.hypervisor_of[cid] is None:
                continue  # its cluster's type is not a hypervisor netseg models: warned once
            if host is not None and host not in hosts:
                self.out.warn(
                    obj.source, f"VM {name} runs on {host}, which is no host read; left out"
                )
                continue
            if host is None:
                candidates = sorted(members.get(cid, []), key=natural_key)
                if not candidates:
                    if self.hypervisor_of.get(cid) is not None or cid not in self.hypervisor_of:
                        self.out.warn(obj.source, f"VM {name} is on no host netseg read; left out")
                    continue
                host = candidates[0]
                if len(candidates) > 1:
                    unplaced[cid] = unplaced.get(cid, 0) + 1
            hypervisor = hosts[host][1]
            guest: dict[str, Any] = {"name": name, "source": obj.source, "host": host}
            nics = []
            networks: list[str] = []
            for iface in sorted(
                by_vm.get(name, []), key=lambda i: natural_key(str(i.body.get("name")))
            ):
                if iface.body.get("enabled") is False:
                    continue
                spec = self.vlan_spec(iface)
                if spec is None:
                    continue
                if _mode(iface.body) is None:
                    unmoded += 1
                    first_unmoded = first_unmoded or iface.source
                nic: dict[str, Any] = {"name": str(iface.body.get("name")), "source": iface.source}
                nic.update(_attach(hypervisor, spec))
                mac = _mac(iface.body.get("primary_mac_address") or iface.body.get("mac_address"))
                if mac:
                    nic["mac"] = mac
                if iface.addresses:
                    nic["address"] = (
                        iface.addresses[0] if len(iface.addresses) == 1 else iface.addresses
                    )
                nics.append(nic)
                needs.setdefault(host, []).append((nic["name"], spec))
                networks += self.vlan_names(iface.body)
            if nics:
                guest["nics"] = nics
            facts = _facts(body, networks)
            if facts:
                guest["_facts"] = facts
            self.out.entities("guests").append(guest)
        for cid, count in sorted(unplaced.items(), key=lambda kv: str(kv[0])):
            cluster = clusters[cid]
            first = sorted(members[cid], key=natural_key)[0]
            self.out.warn(
                cluster.source,
                f"{count} VM{'s' if count > 1 else ''} of cluster {cluster.body.get('name')!r} "
                f"without a device: NetBox does not say where {'they run' if count > 1 else 'it runs'}; "
                f"placed on the cluster's first host, {first}",
            )
        if unmoded:
            more = f" (and {unmoded - 1} more)" if unmoded > 1 else ""
            self.out.warn(
                first_unmoded,
                f"VM interface without an 802.1Q mode in NetBox{more}: taken as untagged on "
                "the host's virtual switch",
            )
        return needs

    def vlan_spec(self, iface: _Iface) -> dict[str, Any] | None:
        """``{"vlan": v}`` (0 untagged), ``{"trunk": [..], "native": n}`` or ``{"all": True,
        "native": n}`` for an interface, from its mode and VLANs."""
        body = iface.body
        mode = _mode(body)
        untagged = self.vid(body.get("untagged_vlan"), iface.source)
        if mode is None or mode == "access":
            return {"vlan": untagged or 0}
        if mode == "tagged":
            vids = sorted(
                {
                    v
                    for v in (self.vid(t, iface.source) for t in body.get("tagged_vlans") or [])
                    if v
                }
            )
            if not vids:
                return {"vlan": untagged or 0}
            return {"trunk": vids, "native": untagged or 0}
        if mode == "tagged-all":
            return {"all": True, "native": untagged or 0}
        self.out.warn(
            iface.source,
            f"802.1Q mode {mode.lstrip('?')!r} is not one netseg models; the NIC is left out",
        )
        return None

    def host(
        self,
        name: str,
        obj: _Object,
        hypervisor: str,
        ifaces: list[_Iface],
        nic_link: dict[Any, tuple[str, str]],
        needs: dict[str, list[tuple[str, dict[str, Any]]]],
    ) -> dict[str, Any]:
        entity: dict[str, Any] = {"name": name, "source": obj.source, "hypervisor": hypervisor}
        nics: list[dict[str, Any]] = []
        uplinks: list[str] = []
        management: list[dict[str, Any]] = []
        virtual: list[_Iface] = []
        for iface in ifaces:
            body = iface.body
            kind = _iface_type(body)
            if body.get("mgmt_only") or body.get("enabled") is False or kind == "lag":
                continue  # out-of-band (BMC) interfaces are not the hypervisor's
            if kind == "virtual":
                if iface.addresses:
                    virtual.append(iface)
                continue
            nic: dict[str, Any] = {"name": str(body.get("name")), "source": iface.source}
            link = nic_link.get(body.get("id"))
            if link is not None:
                nic["switch"], nic["port"] = link
            nics.append(nic)
            if iface.addresses:  # a dedicated adapter of the privileged domain
                management.append(
                    {
                        "name": nic["name"],
                        "source": iface.source,
                        "nic": nic["name"],
                        **_addr(iface),
                    }
                )
            else:
                uplinks.append(nic["name"])
        specs = [spec for _, spec in needs.get(name, [])]
        for iface in virtual:
            spec = self.vlan_spec(iface) or {"vlan": 0}
            if "vlan" not in spec:
                self.out.warn(iface.source, "a tagged management interface; taken as untagged")
                spec = {"vlan": spec.get("native", 0)}
            specs.append(spec)
            mgmt = {"name": str(iface.body.get("name")), "source": iface.source, **_addr(iface)}
            mgmt.update(_attach(hypervisor, spec, management=True))
            management.append(mgmt)
        if nics:
            entity["nics"] = sorted(nics, key=lambda n: natural_key(n["name"]))
        if specs or uplinks:
            vswitch = _vswitch(hypervisor, uplinks, specs, obj.source, self.out)
            if vswitch.get("type") == "external" and virtual:
                vswitch["allow_management_os"] = True
            entity["vswitches"] = [vswitch]
        if management:
            entity["management"] = sorted(management, key=lambda m: natural_key(m["name"]))
        return entity


def _addr(iface: _Iface) -> dict[str, Any]:
    if not iface.addresses:
        return {}
    return {"address": iface.addresses[0] if len(iface.addresses) == 1 else iface.addresses}


def _vlan_set(vids: list[int]) -> str:
    parts: list[str] = []
    start = prev = vids[0]
    for v in [*vids[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ",".join(parts)


def _pg_name(spec: dict[str, Any]) -> str:
    if "vlan" in spec:
        return f"vlan{spec['vlan']}" if spec["vlan"] else "untagged"
    if spec.get("all"):
        return "trunk-all"
    return "trunk-" + _vlan_set(spec["trunk"]).replace(",", "_")


def _attach(hypervisor: str, spec: dict[str, Any], management: bool = False) -> dict[str, Any]:
    """How a guest NIC (or management interface) attaches to the host's ``netbox`` switch."""
    if hypervisor == "esxi":
        return {"portgroup": _pg_name(spec)}
    if "vlan" in spec:
        return {"vswitch": _VSWITCH, **({"vlan": spec["vlan"]} if spec["vlan"] else {})}
    trunk = "all" if spec.get("all") else _vlan_set(spec["trunk"])
    return {"vswitch": _VSWITCH, "vlan": {"trunk": trunk, "native": spec.get("native", 0)}}


def _vswitch(
    hypervisor: str, uplinks: list[str], specs: list[dict[str, Any]], source: str, out: Imported
) -> dict[str, Any]:
    uplinks = sorted(uplinks, key=natural_key)
    body: dict[str, Any] = {"name": _VSWITCH, "source": source}
    if hypervisor == "esxi":
        # NetBox records no security policy: vSphere's distributed-switch default (reject all)
        body["type"] = "distributed"
        if uplinks:
            body["uplinks"] = uplinks
        pgs: dict[str, dict[str, Any]] = {}
        for spec in specs:
            name = _pg_name(spec)
            if "vlan" in spec:
                vlan: Any = spec["vlan"]
            else:
                vlan = {"trunk": "all" if spec.get("all") else _vlan_set(spec["trunk"])}
            pgs.setdefault(name, {"name": name, "vlan": vlan})
        body["security"] = {"promiscuous": False, "mac_changes": False, "forged_transmits": False}
        body["portgroups"] = [pgs[n] for n in sorted(pgs, key=natural_key)]
        return body
    if hypervisor == "hyperv":
        if uplinks:
            body["type"] = "external"
            if len(uplinks) > 1:
                out.warn(
                    source,
                    f"Hyper-V external switch on {len(uplinks)} NICs ({', '.join(uplinks)}): "
                    f"taken as a team of them, uplinked through {uplinks[0]}",
                )
            body["uplinks"] = uplinks[:1]
        else:
            body["type"] = "internal"
        return body
    body.update({"type": "bridge", "vlan_filtering": True})
    if uplinks:
        body["uplinks"] = uplinks
    return body


def _facts(body: dict[str, Any], networks: list[str]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    tags = [
        str(t.get("name") or t.get("slug")) for t in body.get("tags") or [] if isinstance(t, dict)
    ]
    tags += [str(t) for t in body.get("tags") or [] if isinstance(t, str)]
    for key in ("role", "tenant", "platform", "site"):
        name = _name(body.get(key))
        if name:
            tags.append(f"{key}={name}")
    for key, value in sorted((body.get("custom_fields") or {}).items()):
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            tags.append(f"{key}={value}")
    if tags:
        facts["tags"] = tags
    if networks:
        facts["networks"] = sorted(set(networks))
    cluster = _name(body.get("cluster"))
    if cluster:
        facts["folder"] = cluster
    return facts


class NetBoxImporter:
    """Saved NetBox API pages (JSON files), or a live NetBox through pynetbox (``--url``)."""

    name: ClassVar[str] = "netbox"
    options: ClassVar[frozenset[str]] = frozenset({"url", "token"})

    def read(self, request: ImportRequest) -> Imported:
        url = request.option("url")
        if url and request.inputs:
            raise ImportSourceError("--url", "give either --url or saved pages, not both")
        if url:
            objects = read_live(str(url), request.option("token"))
        elif request.inputs:
            objects = [obj for path in request.inputs for obj in read_file(path)]
        else:
            raise ImportSourceError(
                "netseg import netbox", "give saved NetBox API pages (JSON files) or --url URL"
            )
        imported = _Estate(objects).document()
        unique_macs(imported)
        return imported
