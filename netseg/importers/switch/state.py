"""``show interfaces switchport`` (IOS) / ``show interface switchport`` (NX-OS): the ports of a
switch as it runs them, parsed with TextFSM and ntc-templates.

For a switch whose running configuration cannot be had, or whose VLANs live outside it (IOS in
VTP server or client mode), this output gives each port's operational mode (what DTP
negotiated), access VLAN, native VLAN, allowed VLANs and voice VLAN. The output names neither
the switch nor the full port names: the switch is named by the prompt line or the file name
(``tor1.switchport.txt``), and the IOS short names (``Gi0/1``) are expanded to the names the
running configuration spells (``GigabitEthernet0/1``).
"""

from __future__ import annotations

import re
from pathlib import Path

from netseg.importers.naming import port_name
from netseg.importers.switch.facts import Interface, SwitchFacts
from netseg.importers.switch.neighbours import parse_with_template, prompt_host
from netseg.model.vlans import VlanSet

MARKER = re.compile(r"^Name:\s+\S+\s*\n\s*Switchport:\s", re.MULTILINE)
# IOS abbreviations as `show interfaces switchport` prints them


def is_switchport_state(text: str) -> bool:
    return bool(MARKER.search(text))


def full_name(short: str) -> str:
    """The configuration's spelling of a port `show` output abbreviates (one naming table)."""
    return port_name(short) or short


def _vlans(values: list[str] | str) -> VlanSet:
    items = [values] if isinstance(values, str) else values
    text = ",".join(items).replace(" ", "").strip(",")
    if not text or text.upper() == "NONE":
        return VlanSet.empty()
    if text.upper() == "ALL":
        return VlanSet.full()
    return VlanSet.parse(text)


def read(text: str, file: str) -> SwitchFacts:
    """A switch's ports from its switchport state; ImportSourceError when unreadable."""
    nxos = "Trunking VLANs Allowed:" in text
    name = (
        "cisco_nxos_show_interface_switchport" if nxos else "cisco_ios_show_interfaces_switchport"
    )
    body = "\n".join(ln for ln in text.splitlines() if prompt_host(ln) is None) + "\n"
    header, rows = parse_with_template(name, body, file, "switchport state")
    display = Path(file).name
    host = prompt_host(text)
    switch = (host or display.split(".")[0].split("_")[0]).split(".")[0]
    facts = SwitchFacts(file, display, "nxos" if nxos else "ios", switch, 1, None)
    if host is None:
        facts.warn(1, f"the switch is named {switch!r} after the file (no prompt line)")
    lines = text.splitlines()
    starts = [i + 1 for i, ln in enumerate(lines) if ln.startswith("Name:")]
    for k, row in enumerate(rows):
        rec = dict(zip(header, row, strict=True))
        line = starts[k] if k < len(starts) else 1
        iface = Interface(full_name(str(rec["INTERFACE"])), line)
        facts.interfaces[iface.name] = iface
        if str(rec.get("SWITCHPORT", "")).lower() != "enabled":
            iface.mode = "routed"
            continue
        iface.switchport = True
        operational = str(rec.get("MODE", "")).lower()
        admin = str(rec.get("ADMIN_MODE", "")).lower()
        try:
            if str(rec.get("ACCESS_VLAN", "")).isdigit():
                iface.access_vlan = int(rec["ACCESS_VLAN"])
            if str(rec.get("NATIVE_VLAN", "")).isdigit():
                iface.native = int(rec["NATIVE_VLAN"])
            iface.allowed = _vlans(rec.get("TRUNKING_VLANS") or "ALL")
            voice = str(rec.get("VOICE_VLAN", ""))
            iface.voice_vlan = int(voice) if voice.isdigit() else None
        except ValueError as exc:
            facts.warn(line, f"{iface.name}: {exc}; port left out")
            iface.mode, iface.unmodelled = "unmodelled", "an unreadable VLAN"
            continue
        mode = operational if operational not in ("", "down") else admin
        if "trunk" in mode:
            iface.mode = "trunk"
        elif admin.startswith("dynamic"):
            iface.mode = "dynamic"  # DTP: access now, a trunk if a neighbour asks
            iface.unmodelled = admin
        elif "access" in mode:
            iface.mode = "access"
        elif "tunnel" in mode:
            iface.mode = "tunnel"
        else:
            iface.mode, iface.unmodelled = "unmodelled", f"mode {mode or 'unknown'}"
    return facts
