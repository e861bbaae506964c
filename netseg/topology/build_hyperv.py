"""Hyper-V's part of the builder: what each switch type may have as uplink, and the
management OS's implicit vNIC (``vEthernet (NAME)``) on every switch it shares."""

from __future__ import annotations

from typing import Any

from netseg.model.topology import ManagementInterface, VSwitch
from netseg.topology.build_base import BuilderBase
from netseg.topology.source import MDict


class HypervParts(BuilderBase):
    def check_hyperv_uplinks(
        self, v: MDict, path: str, name: str, vtype: str, raw_uplinks: list[Any]
    ) -> None:
        """An external switch has exactly one uplink (a team counts as one); an internal or
        private switch has none."""
        if vtype == "external" and len(raw_uplinks) != 1:
            self.err(
                v,
                None,
                path,
                f"external switch {name} needs exactly one uplink (a NIC team counts as one NIC), got {len(raw_uplinks)}",
            )
        if vtype in ("internal", "private") and raw_uplinks:
            self.err(
                v,
                "uplinks",
                f"{path}.uplinks",
                f"a Hyper-V {vtype} switch has no physical uplink",
                at_key=True,
            )

    def implicit_management_vnics(
        self, host: str, vswitches: dict[str, VSwitch], out: list[ManagementInterface]
    ) -> list[ManagementInterface]:
        """The management OS's vNIC on each switch it shares (internal, or external with
        ``allow_management_os``) where none is declared."""
        added: list[ManagementInterface] = []
        declared = {m.vswitch for m in out if m.vswitch}
        names = {m.name for m in out}
        for vs in vswitches.values():
            shared = vs.type == "internal" or (vs.type == "external" and vs.allow_management_os)
            if shared and vs.name not in declared:
                name = f"vEthernet ({vs.name})"
                if name in names:
                    continue
                added.append(
                    ManagementInterface(
                        host=host,
                        name=name,
                        vswitch=vs.name,
                        implicit=True,
                        location=vs.location,
                    )
                )
        return added
