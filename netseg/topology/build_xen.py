"""Xen's part of the builder: driver domains (the NICs passed through to them, their PCI
devices), which own the bridges and interfaces that name them."""

from __future__ import annotations

from netseg.model.topology import DriverDomain, Nic
from netseg.topology.build_base import BuilderBase, _items, _list, _ok
from netseg.topology.source import MDict
from netseg.topology.spec import suggest


class XenParts(BuilderBase):
    def build_driver_domains(
        self, h: MDict, path: str, name: str, nics: dict[str, Nic]
    ) -> dict[str, DriverDomain]:
        domains: dict[str, DriverDomain] = {}
        for dname, d in self.unique(
            _items(h, "driver_domains"),
            f"{path}.driver_domains",
            "driver domain",
            f"on host {name}",
        ).items():
            j = self.pos[id(d)]
            dpath = f"{path}.driver_domains[{j}]"
            dn = [x for x in _list(d, "nics") if _ok(x)]
            for k, nic in enumerate(dn):
                if nic not in nics:
                    self.err(
                        d["nics"],
                        k,
                        f"{dpath}.nics[{k}]",
                        f"no NIC {nic!r} on host {name}{suggest(nic, nics)}",
                    )
            if dname == "dom0":
                self.err(
                    d,
                    "name",
                    f"{dpath}.name",
                    "'dom0' is the privileged domain, not a driver domain",
                )
            pt = tuple(x for x in _list(d, "passthrough") if _ok(x))
            domains[dname] = DriverDomain(dname, tuple(dn), pt, location=self.loc(d))

        return domains
