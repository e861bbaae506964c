"""LLDP and CDP neighbour tables: ``show lldp neighbors detail`` (IOS, NX-OS, EOS), ``show cdp
neighbors detail`` (IOS, NX-OS) and Junos ``show lldp neighbors``, parsed with TextFSM and the
ntc-templates of each platform (Apache-2.0, maintained by Network to Code).

A table does not say which switch it was taken on: the first line may be the prompt the command
was typed at (``tor1#show lldp neighbors detail``, ``admin@leaf1> show lldp neighbors``), or
the file is named after the switch (``tor1.lldp.txt``, ``tor1_cdp.txt``).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from netseg.errors import ImportSourceError
from netseg.importers.switch.facts import Dialect

_PROMPT = re.compile(
    r"^\s*(?:\S+@)?(?P<host>[A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\([^)]*\))?[#>]\s*(?:show|sh)\s+(?P<cmd>.*)$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Neighbour:
    """One neighbour of one local port, as the switch reports it."""

    file: str
    line: int
    local_port: str  # as the table prints it (often short: Gi1/0/1, Eth1/1, Et1)
    name: str  # the neighbour's system name / device id
    port_id: str  # the neighbour's port id (an interface name, or a MAC)
    port_description: str  # the neighbour's port description, when the template reads it
    protocol: str = "LLDP"  # LLDP or CDP

    @property
    def where(self) -> str:
        return f"{Path(self.file).name}:{self.line}"


def prompt_host(text: str) -> str | None:
    m = _PROMPT.search(text[:2000])
    return m.group("host") if m else None


def parse_with_template(
    name: str, body: str, file: str, what: str
) -> tuple[list[str], list[list[str]]]:
    """The header and rows ntc-templates' TextFSM template ``name`` reads from ``body``;
    ImportSourceError naming ``what`` was expected when it cannot."""
    import textfsm  # type: ignore[import-untyped]  # loaded only when switch output is given

    template = resources.files("ntc_templates") / "templates" / f"{name}.textfsm"
    try:
        fsm = textfsm.TextFSM(io.StringIO(template.read_text(encoding="utf-8")))
        rows = fsm.ParseText(body)
    except textfsm.TextFSMError as exc:
        raise ImportSourceError(file, f"not a {what} ntc-templates' {name} reads: {exc}") from None
    return list(fsm.header), rows


def kind_of(text: str) -> str:
    if re.search(r"^Device ID:", text, re.MULTILINE):
        return "cdp"
    return "lldp"


def _template(dialect: Dialect, kind: str, text: str) -> str:
    if dialect == "junos":
        return "juniper_junos_show_lldp_neighbors"
    if kind == "cdp":
        return f"cisco_{'nxos' if dialect == 'nxos' else 'ios'}_show_cdp_neighbors_detail"
    if re.search(r"^Local Port id:", text, re.MULTILINE):
        return "cisco_nxos_show_lldp_neighbors_detail"
    if re.search(r"^Interface \S+ detected \d+ LLDP neighbors", text, re.MULTILINE):
        return "arista_eos_show_lldp_neighbors_detail"
    return "cisco_ios_show_lldp_neighbors_detail"


def parse(text: str, file: str, dialect: Dialect) -> list[Neighbour]:
    """Every neighbour of the table; ImportSourceError when the table cannot be read."""
    kind = kind_of(text)
    name = _template(dialect, kind, text)
    body = "\n".join(ln for ln in text.splitlines() if not _PROMPT.match(ln)) + "\n"
    header, rows = parse_with_template(name, body, file, f"{kind.upper()} neighbour table")
    lines = body.splitlines()
    prompt_lines = [i for i, ln in enumerate(text.splitlines(), 1) if _PROMPT.match(ln)]
    out: list[Neighbour] = []
    cursor = 0
    # ntc-templates' EOS template does not read "Port Description", yet Linux's lldpd sends the
    # MAC as port id and the interface name only as port description: read it beside the template
    eos_descriptions = _eos_port_descriptions(lines) if name.startswith("arista_eos") else {}
    for row in rows:
        rec = dict(zip(header, row, strict=True))
        local = str(rec.get("LOCAL_INTERFACE", "")).strip()
        if not local:
            continue
        found = next((i for i in range(cursor, len(lines)) if local in lines[i]), cursor)
        cursor = found + 1
        line = found + 1 + sum(1 for p in prompt_lines if p <= found + 1)
        port_id = str(rec.get("NEIGHBOR_PORT_ID") or "")
        description = ""
        if "NEIGHBOR_PORT_ID" in rec:  # IOS LLDP: NEIGHBOR_INTERFACE is the port description
            description = str(rec.get("NEIGHBOR_INTERFACE") or "")
        else:
            port_id = str(rec.get("NEIGHBOR_INTERFACE") or "")
            if eos_descriptions.get(local):
                description = eos_descriptions[local].pop(0)
        name = str(rec.get("NEIGHBOR_NAME") or "").strip()
        if not name and kind == "cdp":
            name = str(rec.get("CHASSIS_ID") or "").strip()  # NX-OS: the Device ID
        out.append(
            Neighbour(file, line, local, name, port_id.strip(), description.strip(), kind.upper())
        )
    return out


_EOS_INTERFACE = re.compile(r"^Interface (\S+) detected \d+ LLDP neighbors")
_EOS_NEIGHBOUR = re.compile(r"^\s+Neighbor \S")
_EOS_PORT_DESCRIPTION = re.compile(r'^\s+- Port Description:\s+"?(.*?)"?\s*$')


def _eos_port_descriptions(lines: list[str]) -> dict[str, list[str]]:
    """Each EOS interface's neighbours' port descriptions, in the table's order ("" for a
    neighbour that sent none)."""
    out: dict[str, list[str]] = {}
    local: str | None = None
    for line in lines:
        if m := _EOS_INTERFACE.match(line):
            local = m.group(1)
            out.setdefault(local, [])
        elif local is not None and _EOS_NEIGHBOUR.match(line):
            out[local].append("")
        elif local is not None and out[local] and (m := _EOS_PORT_DESCRIPTION.match(line)):
            out[local][-1] = m.group(1)
    return out
