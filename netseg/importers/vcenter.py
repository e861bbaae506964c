"""``netseg import vcenter --server HOST[:PORT] --user USER [--insecure]``: a live vCenter.

Read with pyVmomi (the optional ``netseg-hv[vmware]`` extra) through the property collector: one
container view over the whole inventory and ``RetrievePropertiesEx`` /
``ContinueRetrievePropertiesEx`` in pages of 1,000 objects, so an estate of 1,000 hosts is a
handful of round trips, plus one ``QueryNetworkHint`` per host for its CDP/LLDP neighbours and
one batched call of the tagging REST API for the VMs' tags.

What is read, and how it maps to the topology format (docs/importing.md has the whole table):

- HostSystem ``config.network``: physical NICs, standard vSwitches (security policy resolved
  with the vendor's defaults), their port groups (VLAN 0 / 1-4094 / 4095, security settings a
  port group overrides), vmkernel adapters with addresses and MAC, and ``proxySwitch`` (the
  host's uplinks of each distributed switch); ``config.virtualNicManagerInfo.netConfig``: the
  services selected on each vmkernel adapter.
- DistributedVirtualSwitch / DistributedVirtualPortgroup: the switch's default security
  policy and private VLAN map, each port group's VLAN (id, trunk ranges, private VLAN) and its
  security overrides. A distributed switch is written on every host that is a member.
- QueryNetworkHint: CDP/LLDP neighbours; a vmnic names ``switch``/``port`` only from them, and
  the neighbour switches are written with the ports seen.
- VirtualMachine: runtime host, folder, NICs (MAC, port group) and the addresses VMware Tools
  reports (``guest.net``); tags (tagging API) and custom attributes as facts for zone rules.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import importlib
import ipaddress
import json
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from netseg.importers.base import Imported, ImportRequest, ImportSourceError
from netseg.importers.naming import natural_key, port_name, switch_name

__all__ = ["VCenterImporter"]

PAGE = 1000  # objects per RetrievePropertiesEx page
CONNECT_TIMEOUT = 15.0  # seconds to reach the server
READ_TIMEOUT = 900.0  # seconds one answer may take (the simulator answers 50,000 VMs at once)

# VirtualNicManager nic types -> the topology format's vmkernel services
SERVICES = {
    "management": "management",
    "vmotion": "vmotion",
    "vSphereProvisioning": "provisioning",
    "faultToleranceLogging": "ft",
    "vSphereReplication": "replication",
    "vSphereReplicationNFC": "replication",
    "vsan": "vsan",
    "vsanWitness": "vsan",
}

# what vSphere applies when a switch leaves a security setting unset (docs/topology-format.md)
DEFAULTS = {
    "standard": {"promiscuous": False, "mac_changes": True, "forged_transmits": True},
    "distributed": {"promiscuous": False, "mac_changes": False, "forged_transmits": False},
}
# the format's security keys <- the vSphere policy's attribute names
SECURITY_KEYS = (
    ("promiscuous", "allowPromiscuous"),
    ("mac_changes", "macChanges"),
    ("forged_transmits", "forgedTransmits"),
)

PROPERTIES = {
    "HostSystem": [
        "name",
        "runtime.connectionState",
        "configManager.networkSystem",
        "config.network.pnic",
        "config.network.vswitch",
        "config.network.portgroup",
        "config.network.vnic",
        "config.network.proxySwitch",
        "config.virtualNicManagerInfo.netConfig",
        "config.firewall",
    ],
    "VirtualMachine": [
        "name",
        "parent",
        "runtime.host",
        "config.template",
        "summary.config.numEthernetCards",
        "guest.net",
        "customValue",
    ],
    "DistributedVirtualSwitch": ["name", "uuid", "config"],
    "DistributedVirtualPortgroup": ["name", "key", "config"],
    "Folder": ["name", "parent"],
}


class VCenterImporter:
    """Reads a live vCenter (or ESXi host) through its vSphere API."""

    name: ClassVar[str] = "vcenter"
    options: ClassVar[frozenset[str]] = frozenset({"server", "user", "password", "insecure"})

    def read(self, request: ImportRequest) -> Imported:
        if request.inputs:
            raise ImportSourceError(
                request.inputs[0], "vcenter reads a live vCenter (--server HOST), not files"
            )
        server = request.option("server")
        if not server:
            raise ImportSourceError("netseg import vcenter", "needs --server HOST[:PORT]")
        host, port = _split_server(str(server))
        session = _Session(
            host,
            port,
            str(request.option("user") or ""),
            str(request.option("password") or ""),
            bool(request.option("insecure")),
        )
        with session:
            try:
                estate = session.collect()
            except (OSError, http.client.HTTPException) as exc:
                raise ImportSourceError(
                    session.label, f"the connection was lost while reading: {_reason(exc)}"
                ) from None
        return _Builder(estate, session.label).build()


def _split_server(server: str) -> tuple[str, int]:
    text = server.strip()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = text.split("/", 1)[0]
    if text.startswith("["):  # [2001:db8::1]:443
        host, _, rest = text[1:].partition("]")
        port_text = rest.lstrip(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if not host:
        raise ImportSourceError(f"--server {server}", "expected HOST or HOST:PORT")
    if not port_text:
        return host, 443
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ImportSourceError(f"--server {server}", f"port {port_text!r} is not a TCP port")
    return host, int(port_text)


# --- the API session ------------------------------------------------------------------------


@dataclass
class _Estate:
    """The objects read, by type: moid -> {property path: value}."""

    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    hints: dict[str, list[Any]] = field(default_factory=dict)  # host moid -> PhysicalNicHintInfo
    tags: dict[str, list[str]] = field(default_factory=dict)  # VM moid -> tag facts
    custom_fields: dict[int, str] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def of(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.objects.get(kind, {})


class _Session:
    def __init__(self, host: str, port: int, user: str, password: str, insecure: bool) -> None:
        self.host, self.port, self.user, self.insecure = host, port, user, insecure
        self._password = password
        self.label = f"vcenter {host}" + (f":{port}" if port != 443 else "")
        self.si: Any = None

    def __enter__(self) -> _Session:
        try:
            connect, vim, _ = _sdk()
        except ImportError:
            raise ImportSourceError(
                "netseg import vcenter",
                "needs pyVmomi, VMware's vSphere SDK (the netseg-hv[vmware] extra: pip install pyvmomi)",
            ) from None
        where = f"--server {self.host}:{self.port}"
        stub = None
        try:
            # reachable at all? (a black-holed address fails here in seconds, not after the
            # long read timeout a large inventory needs)
            socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT).close()
            # SmartStubAdapter + Login rather than SmartConnect: on a refused login the
            # stub's connections are closed here, not left to the garbage collector
            stub = connect.SmartStubAdapter(
                host=self.host,
                port=self.port,
                # pyVmomi verifies nothing when given no context: the system's trust store,
                # unless --insecure
                sslContext=None if self.insecure else ssl.create_default_context(),
                disableSslCertValidation=self.insecure,
                httpConnectionTimeout=READ_TIMEOUT,
            )
            si = vim.ServiceInstance("ServiceInstance", stub)
            si.content.sessionManager.Login(self.user, self._password, None)
            self.si = si
        except ssl.SSLCertVerificationError as exc:
            raise ImportSourceError(
                where,
                f"the server's certificate is not trusted ({exc.verify_message}); if it is the "
                "vCenter's own self-signed certificate, add its CA to the system's trust store "
                "or pass --insecure",
            ) from None
        except vim.fault.InvalidLogin:
            raise ImportSourceError(
                where, f"login refused for user {self.user!r}: wrong user name or password"
            ) from None
        except (ssl.SSLError, http.client.HTTPException) as exc:
            raise ImportSourceError(where, f"not a vSphere API endpoint ({_reason(exc)})") from None
        except OSError as exc:
            raise ImportSourceError(where, f"cannot reach the vCenter: {_reason(exc)}") from None
        except vim.fault.NotAuthenticated:
            raise ImportSourceError(where, "the session was refused") from None
        except Exception as exc:  # pyVmomi raises vmodl faults and plain Exceptions
            raise ImportSourceError(where, f"not a vSphere API endpoint ({_reason(exc)})") from None
        finally:
            if self.si is None and stub is not None:
                with contextlib.suppress(Exception):
                    stub.DropConnections()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.si is not None:
            with contextlib.suppress(Exception):  # the session is over either way
                self.si.content.sessionManager.Logout()
            with contextlib.suppress(Exception):  # and its pooled connections closed now
                self.si._stub.DropConnections()

    def collect(self) -> _Estate:
        _, vim, vmodl = _sdk()

        estate = _Estate()
        content = self.si.RetrieveContent()
        view = content.viewManager.CreateContainerView(
            content.rootFolder,
            [_vim_type(kind) for kind in PROPERTIES],
            True,
        )
        try:
            try:
                self._retrieve(content.propertyCollector, view, estate)
            except vim.fault.NoPermission as exc:
                raise ImportSourceError(
                    self.label, f"the user may not read the inventory ({_reason(exc)})"
                ) from None
            except vmodl.MethodFault as exc:
                raise ImportSourceError(
                    self.label, f"reading the inventory: {_reason(exc)}"
                ) from None
        finally:
            view.Destroy()
        self._hints(estate)
        if content.customFieldsManager is not None:
            for f in content.customFieldsManager.field or ():
                estate.custom_fields[int(f.key)] = str(f.name)
        self._tags(estate)
        return estate

    def _retrieve(self, collector: Any, view: Any, estate: _Estate) -> None:
        _, vim, vmodl = _sdk()

        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[
                vmodl.query.PropertyCollector.ObjectSpec(
                    obj=view,
                    skip=True,
                    selectSet=[
                        vmodl.query.PropertyCollector.TraversalSpec(
                            name="view", path="view", skip=False, type=vim.view.ContainerView
                        )
                    ],
                )
            ],
            propSet=[
                vmodl.query.PropertyCollector.PropertySpec(
                    type=_vim_type(kind), pathSet=paths, all=False
                )
                for kind, paths in PROPERTIES.items()
            ],
        )
        self._pages(collector, spec, estate)
        self._devices(collector, estate)

    def _devices(self, collector: Any, estate: _Estate) -> None:
        """The virtual hardware of the VMs VMware Tools does not describe completely.

        ``guest.net`` already names each NIC's MAC, network and addresses (hostd fills the
        first two from the VM's configuration) in about a tenth of the data of
        ``config.hardware.device``, which lists every controller and disk too; the device list
        is read only for VMs with a NIC that ``guest.net`` does not report (powered off, no
        Tools), so a 50,000-VM inventory is not ten times the XML."""
        _, vim, vmodl = _sdk()
        wanted = [
            moid
            for moid, vm in sorted(estate.of("VirtualMachine").items())
            if not vm.get("config.template") and len(_tools_nics(vm)) < _nic_count(vm)
        ]
        for start in range(0, len(wanted), PAGE * 5):
            spec = vmodl.query.PropertyCollector.FilterSpec(
                objectSet=[
                    vmodl.query.PropertyCollector.ObjectSpec(
                        obj=vim.VirtualMachine(moid, collector._stub), skip=False
                    )
                    for moid in wanted[start : start + PAGE * 5]
                ],
                propSet=[
                    vmodl.query.PropertyCollector.PropertySpec(
                        type=vim.VirtualMachine, pathSet=["config.hardware.device"], all=False
                    )
                ],
            )
            self._pages(collector, spec, estate)

    def _pages(self, collector: Any, spec: Any, estate: _Estate) -> None:
        _, _, vmodl = _sdk()
        options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=PAGE)
        result = collector.RetrievePropertiesEx([spec], options)
        while result is not None:
            for obj in result.objects:
                kind = _kind(obj.obj)
                props = {p.name: p.val for p in obj.propSet or ()}
                estate.objects.setdefault(kind, {}).setdefault(obj.obj._moId, {}).update(props)
            if not result.token:
                break
            result = collector.ContinueRetrievePropertiesEx(result.token)

    def _hints(self, estate: _Estate) -> None:
        _, vim, vmodl = _sdk()

        for moid, host in sorted(estate.of("HostSystem").items()):
            netsys = host.get("configManager.networkSystem")
            if netsys is None or host.get("runtime.connectionState") not in (None, "connected"):
                continue
            try:
                estate.hints[moid] = list(netsys.QueryNetworkHint() or ())
            except (vmodl.MethodFault, vim.fault.VimFault) as exc:
                estate.warnings.append(
                    (
                        f"vcenter HostSystem {moid}",
                        f"no CDP/LLDP neighbours: QueryNetworkHint failed ({_reason(exc)})",
                    )
                )

    def _tags(self, estate: _Estate) -> None:
        """Tags come from the vSphere Automation (REST) API, not the SOAP one: one login and one
        batched call for every VM; when the endpoint is absent (an ESXi host) tags are skipped
        with a warning."""
        vms = sorted(estate.of("VirtualMachine"))
        if not vms:
            return
        base = f"https://{_url_host(self.host)}:{self.port}/rest/com/vmware/cis"
        context = ssl.create_default_context()
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        credentials = base64.b64encode(f"{self.user}:{self._password}".encode()).decode()
        try:
            token = _rest(context, f"{base}/session", "POST", basic=credentials)
            if not isinstance(token, str):
                raise ValueError("no session id")
            attached: dict[str, list[str]] = {}
            for start in range(0, len(vms), PAGE):
                body = {
                    "object_ids": [
                        {"type": "VirtualMachine", "id": moid} for moid in vms[start : start + PAGE]
                    ]
                }
                found = _rest(
                    context,
                    f"{base}/tagging/tag-association?~action=list-attached-tags-on-objects",
                    "POST",
                    token=token,
                    body=body,
                )
                for entry in found or ():
                    attached[str(entry["object_id"]["id"])] = list(entry.get("tag_ids") or ())
            names: dict[str, list[str]] = {}
            categories: dict[str, str] = {}
            for tag_id in sorted({t for ids in attached.values() for t in ids}):
                tag = _rest(context, f"{base}/tagging/tag/id:{tag_id}", "GET", token=token)
                category_id = str(tag.get("category_id", ""))
                if category_id not in categories:
                    category = _rest(
                        context, f"{base}/tagging/category/id:{category_id}", "GET", token=token
                    )
                    categories[category_id] = str(category.get("name", ""))
                name = str(tag.get("name", tag_id))
                names[tag_id] = [name, f"{categories[category_id]}:{name}"]
            for moid, ids in attached.items():
                estate.tags[moid] = sorted({fact for t in ids for fact in names.get(t, ())})
            with contextlib.suppress(OSError, ValueError):
                _rest(context, f"{base}/session", "DELETE", token=token)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            estate.warnings.append(
                (self.label, f"tags not read: the tagging API did not answer ({_reason(exc)})")
            )


def _tools_nics(vm: dict[str, Any]) -> list[Any]:
    """The NICs VMware Tools reports with their device key and network."""
    return [
        n
        for n in vm.get("guest.net") or ()
        if getattr(n, "deviceConfigId", None) not in (None, -1) and getattr(n, "network", None)
    ]


def _nic_count(vm: dict[str, Any]) -> int:
    count = vm.get("summary.config.numEthernetCards")
    return int(count) if count is not None else 1 << 30  # unknown: read the devices


def _rest(
    context: ssl.SSLContext,
    url: str,
    method: str,
    *,
    basic: str | None = None,
    token: str | None = None,
    body: Any = None,
) -> Any:
    headers = {"Accept": "application/json"}
    if basic:
        headers["Authorization"] = f"Basic {basic}"
    if token:
        headers["vmware-api-session-id"] = token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, context=context, timeout=60) as response:
            text = response.read()
    except urllib.error.HTTPError as exc:
        raise ValueError(f"HTTP {exc.code} from {url.split('?')[0]}") from None
    if not text:
        return None
    value = json.loads(text)
    return value.get("value") if isinstance(value, dict) and "value" in value else value


def _sdk() -> tuple[Any, Any, Any]:
    """pyVim.connect, pyVmomi.vim and pyVmomi.vmodl, loaded on first use (an optional extra)."""
    connect = importlib.import_module("pyVim.connect")
    pyvmomi = importlib.import_module("pyVmomi")
    return connect, pyvmomi.vim, pyvmomi.vmodl


def _vim_type(kind: str) -> Any:
    vim = _sdk()[1]

    return {
        "HostSystem": vim.HostSystem,
        "VirtualMachine": vim.VirtualMachine,
        "DistributedVirtualSwitch": vim.DistributedVirtualSwitch,
        "DistributedVirtualPortgroup": vim.dvs.DistributedVirtualPortgroup,
        "Folder": vim.Folder,
    }[kind]


def _kind(obj: Any) -> str:
    for kind in PROPERTIES:
        if isinstance(obj, _vim_type(kind)):
            return kind
    return type(obj).__name__.rsplit(".", 1)[-1]


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    text = getattr(exc, "msg", None) or getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split()) or type(exc).__name__


# --- from vSphere objects to topology entities -----------------------------------------------


def _security(policy: Any) -> dict[str, bool]:
    """The settings a HostNetworkSecurityPolicy sets (unset ones inherit)."""
    out: dict[str, bool] = {}
    if policy is None:
        return out
    for key, attr in SECURITY_KEYS:
        value = getattr(policy, attr, None)
        if value is not None:
            out[key] = bool(value)
    return out


def _dv_security(setting: Any) -> dict[str, bool]:
    """The settings a DVSSecurityPolicy sets itself (inherited ones come from the switch)."""
    out: dict[str, bool] = {}
    policy = getattr(setting, "securityPolicy", None) if setting is not None else None
    if policy is None:
        return out
    for key, attr in SECURITY_KEYS:
        bool_policy = getattr(policy, attr, None)
        if bool_policy is None or getattr(bool_policy, "inherited", False):
            continue
        if getattr(bool_policy, "value", None) is not None:
            out[key] = bool(bool_policy.value)
    return out


def _prefix(address: str, mask: str | int | None) -> str | None:
    try:
        if isinstance(mask, int) or (isinstance(mask, str) and mask.isdigit()):
            return str(ipaddress.ip_interface(f"{address}/{int(mask)}"))
        if mask:
            return str(ipaddress.ip_interface(f"{address}/{mask}"))
        return None
    except ValueError:
        return None


def _usable(address: str) -> bool:
    try:
        ip = ipaddress.ip_interface(address).ip
    except ValueError:
        return False
    return not (ip.is_link_local or ip.is_unspecified or ip.is_loopback)


def _vlan_set(ranges: Iterable[Any]) -> str:
    ids: list[tuple[int, int]] = []
    for r in ranges:
        lo, hi = max(int(r.start), 1), min(int(r.end), 4094)
        if lo <= hi:
            ids.append((lo, hi))
    ids.sort()
    merged: list[list[int]] = []
    for lo, hi in ids:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    if merged == [[1, 4094]]:
        return "all"
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in merged)


class _Builder:
    def __init__(self, estate: _Estate, label: str) -> None:
        self.estate = estate
        self.label = label
        self.out = Imported()
        for source, message in estate.warnings:
            self.out.warn(source, message)
        self.switches: dict[str, dict[str, Any]] = {}
        self.ports: dict[tuple[str, str], str] = {}  # (switch, port) -> who is cabled there
        self.macs: dict[str, str] = {}
        self.dvs_by_uuid: dict[str, tuple[str, dict[str, Any]]] = {}
        self.dvpg_by_key: dict[str, tuple[str, dict[str, Any]]] = {}
        self.host_names: dict[str, str] = {}
        self.portgroups_of: dict[str, set[str]] = {}  # host name -> its port group names
        self.vlan_of: dict[tuple[str, str], int] = {}
        self.warned: set[str] = set()  # DV port groups already warned about

    def build(self) -> Imported:
        for moid, dvs in self.estate.of("DistributedVirtualSwitch").items():
            if dvs.get("uuid"):
                self.dvs_by_uuid[str(dvs["uuid"])] = (moid, dvs)
        for moid, pg in self.estate.of("DistributedVirtualPortgroup").items():
            self.dvpg_by_key[str(pg.get("key") or moid)] = (moid, pg)
        hosts = [
            h
            for h in (self._host(moid, p) for moid, p in self.estate.of("HostSystem").items())
            if h is not None
        ]
        self._unique_names(hosts, "host")
        guests = [g for g in (self._guest(m, vm) for m, vm in self._vms_by_name()) if g]
        self._unique_names(guests, "guest")
        if self.switches:
            names = ", ".join(sorted(self.switches))
            self.out.warn(
                self.label,
                f"switches {names} are known only from CDP/LLDP: vCenter does not report their "
                "ports' modes and VLANs, so each port seen is written as a trunk of every VLAN; "
                "import the switches' configurations for the real ones",
            )
        switches = sorted(self.switches.values(), key=lambda s: natural_key(s["name"]))
        for sw in switches:
            sw["ports"].sort(key=lambda p: natural_key(p["name"]))
        self.out.document["switches"] = switches
        self.out.document["hosts"] = sorted(hosts, key=lambda h: natural_key(h["name"]))
        self.out.document["guests"] = sorted(guests, key=lambda g: natural_key(g["name"]))
        return self.out

    def _unique_names(self, entities: list[dict[str, Any]], what: str) -> None:
        seen: dict[str, str] = {}
        for entity in list(entities):
            first = seen.get(entity["name"])
            if first is None:
                seen[entity["name"]] = entity["source"]
                continue
            self.out.warn(
                entity["source"],
                f"{what} name {entity['name']!r} is also {first}; this one is left out",
            )
            entities.remove(entity)

    def _vms_by_name(self) -> Iterator[tuple[str, dict[str, Any]]]:
        # VMs are read in name order so that which of two VMs keeps a shared MAC is stable
        items = self.estate.of("VirtualMachine").items()
        yield from sorted(items, key=lambda kv: (natural_key(str(kv[1].get("name", ""))), kv[0]))

    # -- hosts --

    def _host(self, moid: str, props: dict[str, Any]) -> dict[str, Any] | None:
        source = f"vcenter HostSystem {moid}"
        name = str(props.get("name") or moid)
        self.host_names[moid] = name
        host: dict[str, Any] = {"name": name, "source": source, "hypervisor": "esxi"}
        pnics = list(props.get("config.network.pnic") or ())
        if not pnics and props.get("runtime.connectionState") not in (None, "connected"):
            self.out.warn(
                source,
                f"host {name} is {props.get('runtime.connectionState')}: vCenter has no network "
                "configuration for it; written without NICs or switches",
            )
            self.portgroups_of[name] = set()
            return host
        device_of = {str(p.key): str(p.device) for p in pnics}
        hints = {str(h.device): h for h in self.estate.hints.get(moid, ())}
        host["nics"] = [
            self._nic(name, source, str(p.device), hints.get(str(p.device)))
            for p in sorted(pnics, key=lambda p: natural_key(str(p.device)))
        ]
        vswitches = [
            self._vswitch(name, source, v, device_of, props)
            for v in props.get("config.network.vswitch") or ()
        ]
        vswitches += [
            d
            for d in (
                self._dvswitch(name, source, p, device_of)
                for p in props.get("config.network.proxySwitch") or ()
            )
            if d is not None
        ]
        vswitches.sort(key=lambda v: natural_key(v["name"]))
        host["vswitches"] = vswitches
        self.portgroups_of[name] = {pg["name"] for v in vswitches for pg in v.get("portgroups", ())}
        host["management"] = self._vmknics(name, source, props)
        firewall = self._firewall(source, props.get("config.firewall"))
        if firewall is not None:
            host["firewall"] = firewall
        return host

    def _firewall(self, source: str, info: Any) -> dict[str, Any] | None:
        """The ESXi firewall's inbound rulesets: each enabled one admits its allowed hosts
        (every address, or the listed addresses and networks) on its ports."""
        if info is None:
            return None
        blocked = getattr(info.defaultPolicy, "incomingBlocked", True) is not False
        lines: list[dict[str, Any]] = []
        for ruleset in sorted(info.ruleset or (), key=lambda r: str(r.key)):
            if not ruleset.enabled:
                continue
            services = []
            for rule in ruleset.rule or ():
                if rule.direction != "inbound" or rule.protocol not in ("tcp", "udp"):
                    continue
                port, end = int(rule.port), int(rule.endPort or 0)
                service = f"{rule.protocol}/{port}" + (f"-{end}" if end > port else "")
                if service not in services:
                    services.append(service)
            if not services:
                continue
            allowed = ruleset.allowedHosts
            peers: list[str] = []
            if allowed is None or allowed.allIp:
                peers = ["any"]
            else:
                for address in allowed.ipAddress or ():
                    with contextlib.suppress(ValueError):
                        peers.append(str(ipaddress.ip_network(str(address))))
                for net in allowed.ipNetwork or ():
                    with contextlib.suppress(ValueError):
                        peers.append(
                            str(ipaddress.ip_network(f"{net.network}/{net.prefixLength}", False))
                        )
            for peer in peers:
                lines.append(
                    {"from": peer, "services": services, "why": f"ESXi ruleset {ruleset.key}"}
                )
        return {"default": "deny" if blocked else "allow", "allow": lines}

    def _nic(self, host: str, source: str, device: str, hint: Any) -> dict[str, Any]:
        nic: dict[str, Any] = {"name": device, "source": f"{source} pnic {device}"}
        if hint is None:
            return nic
        sw, port, native, how = None, None, None, ""
        cdp = getattr(hint, "connectedSwitchPort", None)
        lldp = getattr(hint, "lldpInfo", None)
        if cdp is not None and (cdp.devId or cdp.systemName):
            how = "CDP"
            sw = switch_name(str(cdp.devId or cdp.systemName))
            port = port_name(str(cdp.portId or ""))
            native = int(cdp.vlan) if getattr(cdp, "vlan", None) else None
            reported = str(cdp.portId or "")
        elif lldp is not None:
            how = "LLDP"
            params = {str(p.key): p.value for p in lldp.parameter or ()}
            system = params.get("System Name")
            sw = switch_name(str(system)) if system else None
            reported = str(lldp.portId or "")
            port = port_name(reported)
            vlan = params.get("Port VLAN ID") or params.get("Vlan ID")
            native = int(str(vlan)) if str(vlan or "").isdigit() else None
        else:
            return nic
        nic["source"] = f"{source} pnic {device} ({how})"
        if not sw:
            self.out.warn(
                nic["source"],
                f"{host} {device}: the {how} neighbour sent no system name; left unlinked",
            )
            return nic
        if not port:
            self.out.warn(
                nic["source"],
                f"{host} {device}: the {how} port id {reported!r} of {sw} is not an interface "
                "name; left unlinked",
            )
            return nic
        owner = f"{host} {device}"
        if (sw, port) in self.ports:
            self.out.warn(
                nic["source"],
                f"{how} says {sw}:{port}, which {self.ports[(sw, port)]} already reported; "
                "left unlinked",
            )
            return nic
        self.ports[(sw, port)] = owner
        switch = self.switches.setdefault(
            sw, {"name": sw, "source": f"{nic['source']} neighbour", "ports": []}
        )
        entry: dict[str, Any] = {
            "name": port,
            "source": f"{nic['source']} neighbour",
            "mode": "trunk",
            "allowed": "all",
            "native": native if native and 1 <= native <= 4094 else "none",
            "description": f"{owner} ({how}); mode and VLANs not reported by vCenter",
        }
        switch["ports"].append(entry)
        nic["switch"], nic["port"] = sw, port
        return nic

    def _vswitch(
        self,
        host: str,
        source: str,
        vswitch: Any,
        device_of: dict[str, str],
        props: dict[str, Any],
    ) -> dict[str, Any]:
        name = str(vswitch.name)
        where = f"{source} vswitch {name}"
        spec_policy = getattr(getattr(vswitch, "spec", None), "policy", None)
        security = {**DEFAULTS["standard"], **_security(getattr(spec_policy, "security", None))}
        uplinks = [device_of.get(str(k), str(k).rsplit("-", 1)[-1]) for k in vswitch.pnic or ()]
        out: dict[str, Any] = {
            "name": name,
            "source": where,
            "type": "standard",
            "uplinks": sorted(uplinks, key=natural_key),
            "security": security,
        }
        portgroups = []
        for pg in props.get("config.network.portgroup") or ():
            spec = pg.spec
            if str(spec.vswitchName) != name:
                continue
            entry: dict[str, Any] = {
                "name": str(spec.name),
                "source": f"{source} portgroup {spec.name}",
                "vlan": int(spec.vlanId or 0),
            }
            override = _security(getattr(getattr(spec, "policy", None), "security", None))
            if override:
                entry["security"] = override
            self.vlan_of[(host, entry["name"])] = entry["vlan"]
            portgroups.append(entry)
        out["portgroups"] = sorted(portgroups, key=lambda p: natural_key(p["name"]))
        return out

    def _dvswitch(
        self, host: str, source: str, proxy: Any, device_of: dict[str, str]
    ) -> dict[str, Any] | None:
        found = self.dvs_by_uuid.get(str(proxy.dvsUuid))
        if found is None:
            self.out.warn(
                f"{source} proxySwitch {proxy.dvsName}",
                f"distributed switch {proxy.dvsName} ({proxy.dvsUuid}) is not in the inventory "
                "read; left out",
            )
            return None
        moid, dvs = found
        config = dvs.get("config")
        name = str(dvs.get("name") or proxy.dvsName)
        where = f"vcenter DistributedVirtualSwitch {moid}"
        defaults = getattr(config, "defaultPortConfig", None)
        security = {**DEFAULTS["distributed"], **_dv_security(defaults)}
        uplink_refs = {r._moId for r in getattr(config, "uplinkPortgroup", None) or ()}
        uplinks = [device_of.get(str(k), str(k).rsplit("-", 1)[-1]) for k in proxy.pnic or ()]
        pvlans = {int(p.secondaryVlanId): p for p in getattr(config, "pvlanConfig", None) or ()}
        portgroups = []
        for pg_moid, pg in self.estate.of("DistributedVirtualPortgroup").items():
            pg_config = pg.get("config")
            switch_ref = getattr(pg_config, "distributedVirtualSwitch", None)
            if switch_ref is None or switch_ref._moId != moid:
                continue
            if pg_moid in uplink_refs or getattr(pg_config, "uplink", False):
                continue
            entry = self._dvportgroup(pg_moid, pg, pvlans, host)
            if entry is not None:
                portgroups.append(entry)
        return {
            "name": name,
            "source": where,
            "type": "distributed",
            "uplinks": sorted(uplinks, key=natural_key),
            "security": security,
            "portgroups": sorted(portgroups, key=lambda p: natural_key(p["name"])),
        }

    def _dvportgroup(
        self, moid: str, pg: dict[str, Any], pvlans: dict[int, Any], host: str
    ) -> dict[str, Any] | None:
        vim = _sdk()[1]

        config = pg.get("config")
        name = str(pg.get("name") or getattr(config, "name", moid))
        source = f"vcenter DistributedVirtualPortgroup {moid}"
        entry: dict[str, Any] = {"name": name, "source": source}
        setting = getattr(config, "defaultPortConfig", None)
        vlan = getattr(setting, "vlan", None)
        vds = vim.dvs.VmwareDistributedVirtualSwitch
        if isinstance(vlan, vds.TrunkVlanSpec):
            trunk = _vlan_set(vlan.vlanId or ())
            if trunk:
                entry["vlan"] = {"trunk": trunk}
            else:
                entry["vlan"] = 0
        elif isinstance(vlan, vds.PvlanSpec):
            secondary = int(vlan.pvlanId)
            mapping = pvlans.get(secondary)
            kind = f"{mapping.pvlanType} " if mapping is not None else ""
            primary = f" of primary VLAN {mapping.primaryVlanId}" if mapping is not None else ""
            entry["vlan"] = secondary
            if moid not in self.warned:
                self.warned.add(moid)
                self.out.warn(
                    source,
                    f"port group {name} is on {kind}private VLAN {secondary}{primary}: private "
                    f"VLANs are not modelled; written as VLAN {secondary}, so guests there are "
                    "taken to reach each other (exposure is overstated, never hidden)",
                )
        elif isinstance(vlan, vds.VlanIdSpec):
            entry["vlan"] = int(vlan.vlanId or 0)
        elif vlan is not None:
            self.out.warn(
                source,
                f"port group {name}: VLAN setting {type(vlan).__name__} is not known; written untagged (0)",
            )
            entry["vlan"] = 0
        else:
            entry["vlan"] = 0
        override = _dv_security(setting)
        if override:
            entry["security"] = override
        if isinstance(entry["vlan"], int):
            self.vlan_of[(host, name)] = entry["vlan"]
        return entry

    def _vmknics(self, host: str, source: str, props: dict[str, Any]) -> list[dict[str, Any]]:
        services: dict[str, list[str]] = {}
        unknown: dict[str, list[str]] = {}
        for net in props.get("config.virtualNicManagerInfo.netConfig") or ():
            by_key = {str(c.key): str(c.device) for c in net.candidateVnic or ()}
            for key in net.selectedVnic or ():
                device = by_key.get(str(key), str(key).rsplit("-", 1)[-1])
                service = SERVICES.get(str(net.nicType))
                if service is None:
                    unknown.setdefault(device, []).append(str(net.nicType))
                elif service not in services.setdefault(device, []):
                    services[device].append(service)
        out = []
        for vnic in sorted(
            props.get("config.network.vnic") or (), key=lambda v: natural_key(str(v.device))
        ):
            device = str(vnic.device)
            where = f"{source} vnic {device}"
            entry: dict[str, Any] = {"name": device, "source": where}
            spec = vnic.spec
            portgroup = str(vnic.portgroup or getattr(spec, "portgroup", None) or "")
            port = getattr(spec, "distributedVirtualPort", None)
            if not portgroup and port is not None:
                found = self.dvpg_by_key.get(str(port.portgroupKey))
                portgroup = str(found[1].get("name")) if found else ""
            if not portgroup:
                self.out.warn(
                    where,
                    f"{host} {device} is on no port group netseg can name (an NSX or unknown "
                    "network); left out",
                )
                continue
            entry["portgroup"] = portgroup
            addresses = []
            ip = getattr(spec, "ip", None)
            if ip is not None and ip.ipAddress:
                address = _prefix(str(ip.ipAddress), str(ip.subnetMask or ""))
                if address and _usable(address):
                    addresses.append(address)
            v6 = getattr(ip, "ipV6Config", None) if ip is not None else None
            for a in getattr(v6, "ipV6Address", None) or ():
                address = _prefix(str(a.ipAddress), int(a.prefixLength))
                if address and _usable(address):
                    addresses.append(address)
            if addresses:
                entry["address"] = addresses[0] if len(addresses) == 1 else addresses
            mac = self._mac(str(spec.mac or ""), f"{host} {device}", where)
            if mac:
                entry["mac"] = mac
            entry["services"] = services.get(device, [])
            for nic_type in unknown.get(device, ()):
                self.out.warn(
                    where,
                    f"{host} {device}: service {nic_type} has no counterpart in the topology "
                    "format; not written",
                )
            out.append(entry)
        return out

    def _mac(self, mac: str, owner: str, where: str) -> str | None:
        mac = mac.strip().lower().replace("-", ":")
        if not mac:
            return None
        first = self.macs.get(mac)
        if first is not None:
            self.out.warn(
                where,
                f"MAC {mac} of {owner} is also the MAC of {first}; written once, on {first}",
            )
            return None
        self.macs[mac] = owner
        return mac

    # -- guests --

    def _guest(self, moid: str, props: dict[str, Any]) -> dict[str, Any] | None:
        source = f"vcenter VirtualMachine {moid}"
        name = str(props.get("name") or moid)
        if props.get("config.template"):
            return None
        host_ref = props.get("runtime.host")
        host = self.host_names.get(host_ref._moId) if host_ref is not None else None
        if host is None:
            self.out.warn(source, f"VM {name} runs on no host that was read; left out")
            return None
        guest: dict[str, Any] = {"name": name, "source": source, "host": host}
        reported = {
            int(n.deviceConfigId): n
            for n in props.get("guest.net") or ()
            if getattr(n, "deviceConfigId", None) is not None
        }
        nics = []
        networks: list[str] = []
        vlans: list[int] = []
        for key, label, portgroup, mac_text in self._vm_nics(props):
            where = f"{source} device {key}"
            if not portgroup or portgroup not in self.portgroups_of.get(host, set()):
                what = f"port group {portgroup!r}" if portgroup else "a network netseg cannot name"
                self.out.warn(
                    where,
                    f"VM {name} {label} is on {what}, which host {host} does not have; "
                    "this NIC is left out",
                )
                continue
            nic: dict[str, Any] = {"source": where, "portgroup": portgroup}
            mac = self._mac(mac_text, f"VM {name} {label}", where)
            if mac:
                nic["mac"] = mac
            addresses = self._guest_addresses(reported.get(key), name, where)
            if addresses:
                nic["address"] = addresses[0] if len(addresses) == 1 else addresses
            networks.append(portgroup)
            if (host, portgroup) in self.vlan_of:
                vlans.append(self.vlan_of[(host, portgroup)])
            nics.append(nic)
        guest["nics"] = nics
        facts: dict[str, Any] = {"networks": networks, "vlans": vlans}
        folder = self._folder(props.get("parent"))
        if folder:
            facts["folder"] = folder
        tags = list(self.estate.tags.get(moid, ()))
        for value in props.get("customValue") or ():
            field_name = self.estate.custom_fields.get(int(value.key), str(value.key))
            tags.append(f"{field_name}={getattr(value, 'value', '')}")
        if tags:
            facts["tags"] = tags
        guest["_facts"] = facts
        return guest

    def _vm_nics(self, props: dict[str, Any]) -> list[tuple[int, str, str | None, str]]:
        """(device key, label, port group name, MAC) of each virtual NIC in device order: from
        the virtual hardware when it was read, else from what VMware Tools reports."""
        vim = _sdk()[1]
        out: list[tuple[int, str, str | None, str]] = []
        devices = props.get("config.hardware.device")
        if devices is None:
            for net in sorted(_tools_nics(props), key=lambda n: int(n.deviceConfigId)):
                key = int(net.deviceConfigId)
                out.append((key, f"NIC {key}", str(net.network), str(net.macAddress or "")))
            return out
        card = vim.vm.device.VirtualEthernetCard
        for device in sorted((d for d in devices if isinstance(d, card)), key=lambda d: d.key):
            label = str(getattr(device.deviceInfo, "label", "") or f"NIC {device.key}")
            backing = device.backing
            portgroup = None
            if isinstance(backing, card.NetworkBackingInfo):
                portgroup = str(backing.deviceName or "")
            elif isinstance(backing, card.DistributedVirtualPortBackingInfo):
                found = self.dvpg_by_key.get(str(backing.port.portgroupKey))
                portgroup = str(found[1].get("name")) if found else None
            out.append((int(device.key), label, portgroup, str(device.macAddress or "")))
        return out

    def _guest_addresses(self, net: Any, vm: str, where: str) -> list[str]:
        if net is None:
            return []
        out: list[str] = []
        config = getattr(net, "ipConfig", None)
        for a in getattr(config, "ipAddress", None) or ():
            address = _prefix(str(a.ipAddress), int(a.prefixLength or 0) or None)
            if address and _usable(address) and address not in out:
                out.append(address)
        if out:
            return out
        bare = [str(a) for a in net.ipAddress or ()]
        for text in bare:
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                continue
            address = f"{ip}/{ip.max_prefixlen}"
            if _usable(address):
                out.append(address)
        if out:
            self.out.warn(
                where,
                f"VM {vm}: VMware Tools reported {', '.join(a.split('/')[0] for a in out)} "
                "without a prefix length; written as host addresses (/32, /128)",
            )
        return out

    def _folder(self, ref: Any) -> str | None:
        folders = self.estate.of("Folder")
        parts: list[str] = []
        seen: set[str] = set()
        while ref is not None and ref._moId in folders and ref._moId not in seen:
            seen.add(ref._moId)
            props = folders[ref._moId]
            parent = props.get("parent")
            if parent is None or parent._moId not in folders:
                break  # the datacenter's own "vm" folder is not part of the path
            parts.append(str(props.get("name", "")))
            ref = parent
        return "/".join(reversed(parts)) or None
