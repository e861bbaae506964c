"""ESXi's part of the builder: port groups (their VLAN or trunk, security resolved from the
port group, else its vSwitch, else the vendor default) and finding the port group a guest NIC
or a vmkernel interface names."""

from __future__ import annotations

from typing import Any

from netseg.model.topology import GuestNic, Host, PortGroup, Security, VlanMode, VSwitch
from netseg.model.vlans import VlanSet
from netseg.topology.build_base import BuilderBase, _items, _ok
from netseg.topology.source import MDict
from netseg.topology.spec import INVALID, suggest

VENDOR_SECURITY = {
    "standard": Security(promiscuous=False, mac_changes=True, forged_transmits=True),
    "distributed": Security(promiscuous=False, mac_changes=False, forged_transmits=False),
}


class EsxiParts(BuilderBase):
    def build_portgroups(
        self, v: MDict, path: str, name: str, vtype: str, security: Security
    ) -> list[PortGroup]:
        """The port groups of an ESXi virtual switch."""
        portgroups = []
        for pname, pg in self.unique(
            _items(v, "portgroups"), f"{path}.portgroups", "port group", f"on {name}"
        ).items():
            j = self.pos[id(pg)]
            ppath = f"{path}.portgroups[{j}]"
            raw_vlan = pg.get("vlan", 0)
            if raw_vlan is INVALID:
                raw_vlan = 0
            if isinstance(raw_vlan, MDict):
                trunk = raw_vlan.get("trunk")
                trunk = trunk if isinstance(trunk, VlanSet) else VlanSet.empty()
                if vtype == "standard":
                    self.err(
                        pg,
                        "vlan",
                        f"{ppath}.vlan",
                        "VLAN trunking ({trunk: SET}) needs a distributed switch; a standard vSwitch uses 4095",
                    )
                mode = VlanMode("trunk", trunk=trunk, native=0)
                source: int | str = str(trunk)
            elif raw_vlan == 4095:
                mode = VlanMode("trunk", trunk=VlanSet.full(), native=0)
                source = 4095
            else:
                mode = VlanMode("access", vlan=int(raw_vlan))
                source = int(raw_vlan)
            portgroups.append(
                PortGroup(
                    pname,
                    mode,
                    self.resolve_security(pg.get("security"), security),
                    vlan_source=source,
                    location=self.loc(pg),
                )
            )
        return portgroups

    @staticmethod
    def resolve_security(raw: Any, inherited: Security) -> Security:
        if not isinstance(raw, MDict):
            return inherited

        def pick(key: str) -> bool:
            value = raw.get(key)
            return bool(value) if isinstance(value, bool) else bool(getattr(inherited, key))

        return Security(pick("promiscuous"), pick("mac_changes"), pick("forged_transmits"))

    def find_portgroup(
        self, item: MDict, path: str, host: str, vswitches: dict[str, VSwitch]
    ) -> tuple[VSwitch, PortGroup] | None:
        pg_name = item.get("portgroup")
        vs_name = item.get("vswitch")
        if not _ok(pg_name):
            return None
        if not _ok(vs_name):
            index = self.pg_index.get(host)
            if index is None or index[0] is not vswitches:
                by_name: dict[str, list[tuple[VSwitch, PortGroup]]] = {}
                for each in vswitches.values():
                    for pg in each.portgroups:
                        by_name.setdefault(pg.name, []).append((each, pg))
                index = (vswitches, by_name)
                self.pg_index[host] = index
            hits = index[1].get(pg_name, [])
            if len(hits) == 1:
                return hits[0]
        if _ok(vs_name):
            vs = vswitches.get(vs_name)
            if vs is None:
                self.err(
                    item,
                    "vswitch",
                    f"{path}.vswitch",
                    f"no virtual switch {vs_name!r} on host {host}{suggest(vs_name, vswitches)}",
                )
                return None
            candidates = [vs]
        else:
            candidates = list(vswitches.values())
        found = [(vs, pg) for vs in candidates for pg in vs.portgroups if pg.name == pg_name]
        if not found:
            names = [pg.name for vs in candidates for pg in vs.portgroups]
            self.err(
                item,
                "portgroup",
                f"{path}.portgroup",
                f"no port group {pg_name!r} on host {host}{suggest(pg_name, names)}",
            )
            return None
        if len(found) > 1:
            owners = ", ".join(vs.name for vs, _ in found)
            self.err(
                item,
                "portgroup",
                f"{path}.portgroup",
                f"port group {pg_name!r} exists on several switches ({owners}); add 'vswitch' to choose",
            )
            return None
        return found[0]

    def esxi_guest_nic(
        self,
        n: MDict,
        path: str,
        guest: str,
        name: str,
        host: Host,
        vsw: dict[str, VSwitch],
        common: dict[str, Any],
    ) -> GuestNic | None:
        """A guest NIC on ESXi: its port group sets the VLAN."""
        if "vlan" in n:
            self.err(
                n,
                "vlan",
                f"{path}.vlan",
                "on ESXi the port group sets the VLAN; remove 'vlan'",
                at_key=True,
            )
        if "portgroup" not in n:
            self.err(
                n,
                None,
                path,
                f"NIC {name} of guest {guest} needs 'portgroup' (host {host.name} is ESXi)",
            )
            return None
        found = self.find_portgroup(n, path, host.name, vsw)
        if not found:
            return None
        vs, pg = found
        return GuestNic(vswitch=vs.name, portgroup=pg.name, vlan=pg.vlan, **common)
