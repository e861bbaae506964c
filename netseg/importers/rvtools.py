"""``netseg import rvtools``: an RVTools export (``.xlsx`` workbook or folder of CSV files).

RVTools writes one tab per vSphere inventory view. Eight of them describe the network:

========  ==================================================================================
vInfo     one row per VM: host, folder, annotation, custom attributes, template flag
vNetwork  one row per VM network adapter: port group (``Network``), MAC, guest IPs
vSwitch   one row per standard vSwitch and host: its security policy
vPort     one row per standard port group and host: VLAN and security *overrides*
dvSwitch  one row per distributed switch: its member hosts
dvPort    one row per distributed port group: VLAN (id or trunk ranges) and security
vSC_VMK   one row per vmkernel adapter: port group, addresses, MAC, enabled services
vNIC      one row per physical NIC: the switch it is an uplink of, its PCI address
========  ==================================================================================

Headers are matched by name (case and spacing ignored, with the spellings RVTools versions
use), never by position; rows are read until the first blank row (RVTools workbooks often
claim a million formatted rows). How rows join, what is assumed and what is warned about is in
docs/importing.md ("rvtools").
"""

from __future__ import annotations

import csv
import ipaddress
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from netseg.errors import ImportSourceError
from netseg.importers.base import Imported, ImportRequest, merge, unique_macs
from netseg.importers.naming import natural_key

__all__ = ["TABS", "RVToolsImporter"]

# --- what is read from each tab -----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # the name used in this module
    names: tuple[str, ...]  # header spellings, first the current RVTools one
    required: bool = False


def _col(key: str, *names: str, required: bool = False) -> Column:
    return Column(key, names or (key,), required)


_SECURITY = (
    _col("promiscuous", "Promiscuous Mode", "Allow Promiscuous", "Promiscuous"),
    _col("mac_changes", "Mac Changes", "MAC Address Changes", "MAC Changes"),
    _col("forged_transmits", "Forged Transmits"),
)
_VM_KEY = (
    _col("vm_uuid", "VM UUID"),
    _col("vm_id", "VM ID"),
    _col("sdk_uuid", "VI SDK UUID"),
    _col("sdk_server", "VI SDK Server"),
)

#: tab -> the columns read from it (matched by name; RVTools versions add and move columns)
TABS: Mapping[str, tuple[Column, ...]] = {
    "vInfo": (
        _col("vm", "VM", required=True),
        _col("host", "Host", required=True),
        _col("template", "Template"),
        _col("folder", "Folder"),
        _col("annotation", "Annotation"),
        _col("tags", "Tags"),
        *_VM_KEY,
    ),
    "vNetwork": (
        _col("vm", "VM", required=True),
        _col("network", "Network", "Port Group", required=True),
        _col("mac", "Mac Address", "MAC Address", "MAC", required=True),
        _col("label", "NIC label", "NIC Label", "Adapter Label"),
        _col("switch", "Switch"),
        _col("ipv4", "IPv4 Address", "IP Address"),
        _col("ipv6", "IPv6 Address", "IP 6 Address"),
        _col("template", "Template"),
        *_VM_KEY,
    ),
    "vSwitch": (
        _col("host", "Host", required=True),
        _col("switch", "Switch", "Name", required=True),
        *_SECURITY,
        _col("uplinks", "Uplinks"),
    ),
    "vPort": (
        _col("host", "Host", required=True),
        _col("portgroup", "Port Group", "Portgroup", required=True),
        _col("switch", "Switch", required=True),
        _col("vlan", "VLAN", "VLAN ID", required=True),
        *_SECURITY,
    ),
    "dvSwitch": (
        _col("switch", "Switch", "Name", required=True),
        _col("members", "Host members", "Host Members"),
    ),
    "dvPort": (
        _col("portgroup", "Port", "Port Group", "Name", required=True),
        _col("switch", "Switch", required=True),
        _col("vlan", "VLAN", required=True),
        _col("uplink", "Uplink"),
        *_SECURITY,
    ),
    "vSC_VMK": (
        _col("host", "Host", required=True),
        _col("portgroup", "Port Group", required=True),
        _col("device", "Device", required=True),
        _col("mac", "Mac Address", "MAC Address", "MAC"),
        _col("dhcp", "DHCP"),
        _col("ip", "IP Address"),
        _col("mask", "Subnet mask", "Subnet Mask"),
        _col("ip6", "IP 6 Address", "IPv6 Address"),
        _col("services", "Services", "Enabled Services"),
    ),
    "vNIC": (
        _col("host", "Host", required=True),
        _col("device", "Network Device", "Device", required=True),
        _col("switch", "Switch"),
        _col("pci", "PCI"),
    ),
}

# vSphere's names of the vmkernel services (HostVirtualNicManagerNicType and the labels the
# clients show) -> the topology format's
_SERVICES = {
    "management": "management",
    "managementtraffic": "management",
    "vmotion": "vmotion",
    "vsan": "vsan",
    "vsanwitness": "vsan",
    "provisioning": "provisioning",
    "vsphereprovisioning": "provisioning",
    "ft": "ft",
    "faulttolerance": "ft",
    "faulttolerancelogging": "ft",
    "replication": "replication",
    "vspherereplication": "replication",
    "vspherereplicationnfc": "replication",
    "iscsi": "iscsi",
    "nfs": "nfs",
}
_TRUE = {"true", "yes", "accept", "enabled", "1"}
_FALSE = {"false", "no", "reject", "disabled", "0"}
_RANGES = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
_CSV_NAME = re.compile(r"(?:^|tab)(v[A-Za-z_]+|dv[A-Za-z]+)\.csv$", re.IGNORECASE)


def _norm(header: str) -> str:
    return "".join(header.split()).lower()


def _cell(value: Any) -> str:
    """A cell as text, the same whichever reader produced it (openpyxl gives ints and bools,
    calamine floats, CSV strings)."""
    if value is None:
        return ""
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _letter(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


# --- reading a tab --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # the spreadsheet row (or CSV line) number, 1 = the header
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values.get(key, "")


@dataclass
class Tab:
    """The rows of one RVTools tab, only the columns this importer reads."""

    name: str
    file: str  # the file to name in messages
    label: str  # how a row is named in provenance: "RVTools.xlsx vPort" / "RVTools_tabvPort.csv"
    columns: dict[str, str]  # key -> the header as written (for messages)
    letters: dict[str, str]  # key -> the column letter (workbooks) or number (CSV)
    rows: list[Row] = field(default_factory=list)
    csv_form: bool = False

    def source(self, row: Row) -> str:
        return f"{self.label} row {row.number}"

    def where(self, row: Row, key: str | None = None) -> str:
        if self.csv_form:
            where = f"{row.number}: tab {self.name}"
        else:
            where = f"sheet {self.name} row {row.number}"
        if key is not None:
            where += f" column {self.letters[key]} ({self.columns[key]})"
        return where


def _tab_from_rows(
    name: str, file: str, label: str, rows: Iterator[Sequence[Any]], csv_form: bool
) -> Tab:
    header_row = next(rows, None)
    header = [_cell(v) for v in header_row or ()]
    index: dict[str, int] = {}
    for i, text in enumerate(header):
        if text:
            index.setdefault(_norm(text), i)
    picked: dict[str, int] = {}
    for column in TABS[name]:
        for spelling in column.names:
            if _norm(spelling) in index:
                picked[column.key] = index[_norm(spelling)]
                break
        else:
            if column.required:
                found = ", ".join(repr(h) for h in header if h) or "nothing"
                where = f"1: tab {name}" if csv_form else f"sheet {name} row 1"
                raise ImportSourceError(
                    file,
                    f"no column {column.names[0]!r} in the header row (RVTools writes it in "
                    f"every version; the header has {found})",
                    where,
                )
    if name == "vInfo" and "annotation" in picked:
        picked.update(_attribute_columns(header, picked["annotation"]))
    tab = Tab(
        name,
        file,
        label,
        {k: header[i] for k, i in picked.items()},
        {k: (str(i + 1) if csv_form else _letter(i)) for k, i in picked.items()},
        csv_form=csv_form,
    )
    wanted = list(picked.items())
    last = max(picked.values()) if picked else 0
    for number, raw in enumerate(rows, 2):
        if not any(v is not None and v != "" for v in raw):
            break  # the first blank row ends the table (formatted-but-empty rows follow)
        width = len(raw)
        values = {k: _cell(raw[i]) for k, i in wanted if i < width}
        if width <= last and csv_form:
            missing = [tab.columns[k] for k, i in wanted if i >= width]
            raise ImportSourceError(
                file,
                f"the row has {width} fields, no {', '.join(missing)}",
                f"{number}: tab {name}",
            )
        tab.rows.append(Row(number, values))
    return tab


# vInfo columns RVTools writes after the custom attributes (which follow 'Annotation')
_AFTER_ATTRIBUTES = {"datacenter", "cluster", "host", "folder", "osaccordingtotheconfigurationfile"}


def _attribute_columns(header: list[str], annotation: int) -> dict[str, int]:
    out = {}
    for i in range(annotation + 1, len(header)):
        text = header[i]
        if not text or _norm(text) in _AFTER_ATTRIBUTES:
            break
        out[f"attr:{text}"] = i
    return out


def _read_workbook(path: Path) -> dict[str, Tab]:
    """Every networking tab of an .xlsx workbook (python-calamine when installed: several times
    faster than openpyxl on a 50,000-VM workbook; see docs/importing.md)."""
    display = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except FileNotFoundError:
        raise ImportSourceError(display, "cannot read: No such file or directory") from None
    except OSError as exc:
        raise ImportSourceError(display, f"cannot read: {exc.strerror or exc}") from None
    except (zipfile.BadZipFile, EOFError):
        raise ImportSourceError(
            display, "not an .xlsx workbook (the file is truncated or not a zip archive)"
        ) from None
    if bad is not None:
        raise ImportSourceError(display, f"the workbook is damaged (member {bad} is corrupt)")
    try:
        return _read_with_calamine(path)
    except ImportError:
        return _read_with_openpyxl(path)


def _check_tabs(display: str, present: Iterable[str]) -> dict[str, str]:
    """The sheet name of each networking tab, or one message naming every missing one."""
    by_name = {name.lower(): name for name in present}
    found = {tab: by_name[tab.lower()] for tab in TABS if tab.lower() in by_name}
    missing = [tab for tab in TABS if tab not in found]
    if missing:
        has = ", ".join(list(by_name.values())[:12]) or "no tabs"
        what = (
            "not an RVTools export"
            if len(missing) == len(TABS)
            else "an RVTools export without its networking tabs"
        )
        raise ImportSourceError(
            display,
            f"{what}: missing tab{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(it has {has}); export every tab with RVTools' File > Export all to Excel",
        )
    return found


def _read_with_calamine(path: Path) -> dict[str, Tab]:
    from python_calamine import CalamineWorkbook

    display = str(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets = _check_tabs(display, book.sheet_names)
        return {
            tab: _tab_from_rows(
                tab,
                display,
                f"{path.name} {tab}",
                iter(book.get_sheet_by_name(sheet).iter_rows()),
                False,
            )
            for tab, sheet in sheets.items()
        }
    except ImportSourceError:
        raise
    except Exception as exc:  # calamine raises its own errors for damaged workbooks
        raise ImportSourceError(display, f"not a readable .xlsx workbook ({exc})") from None


def _read_with_openpyxl(path: Path) -> dict[str, Tab]:
    import openpyxl

    display = str(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, … for non-Excel zips
        raise ImportSourceError(display, f"not a readable .xlsx workbook ({exc})") from None
    try:
        sheets = _check_tabs(display, book.sheetnames)
        return {
            tab: _tab_from_rows(
                tab,
                display,
                f"{path.name} {tab}",
                book[sheet].iter_rows(values_only=True),
                False,
            )
            for tab, sheet in sheets.items()
        }
    except ImportSourceError:
        raise
    except Exception as exc:
        raise ImportSourceError(display, f"not a readable .xlsx workbook ({exc})") from None
    finally:
        book.close()


def _read_folder(path: Path) -> dict[str, Tab]:
    """The CSV export (``RVTools -c ExportAll2csv``): one ``RVTools_tab<Tab>.csv`` per tab."""
    files: dict[str, Path] = {}  # tab name as the file spells it -> file
    try:
        entries = sorted(path.iterdir())
    except OSError as exc:
        raise ImportSourceError(str(path), f"cannot read: {exc.strerror or exc}") from None
    for entry in entries:
        m = _CSV_NAME.search(entry.name)
        if m and entry.is_file():
            files.setdefault(m.group(1), entry)
    sheets = _check_tabs(str(path), files)
    out = {}
    for tab in sheets:
        file = files[sheets[tab]]
        try:
            with open(file, encoding="utf-8-sig", newline="") as handle:
                first = handle.readline()
                handle.seek(0)
                delimiter = ";" if first.count(";") > first.count(",") else ","
                out[tab] = _tab_from_rows(
                    tab, str(file), file.name, csv.reader(handle, delimiter=delimiter), True
                )
        except UnicodeDecodeError as exc:
            raise ImportSourceError(
                str(file), f"not UTF-8 text (byte {exc.start}); RVTools writes UTF-8 CSV"
            ) from None
        except csv.Error as exc:
            raise ImportSourceError(str(file), f"not a CSV file ({exc})") from None
        except OSError as exc:
            raise ImportSourceError(str(file), f"cannot read: {exc.strerror or exc}") from None
    return out


def read_tabs(path_text: str) -> dict[str, Tab]:
    """The networking tabs of one input (a workbook, or a folder of CSV files)."""
    path = Path(path_text)
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() == ".csv":
        raise ImportSourceError(
            path_text, "give the folder that holds the RVTools CSV files, not one of them"
        )
    return _read_workbook(path)


# --- values -------------------------------------------------------------------------------------


def _bool(text: str) -> bool | None:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None


def _mac(text: str) -> str | None:
    hexes = re.sub(r"[^0-9A-Fa-f]", "", text)
    if len(hexes) != 12 or len(re.findall(r"[:\-.]", text)) not in (0, 2, 5):
        return None
    return ":".join(hexes[i : i + 2] for i in range(0, 12, 2)).lower()


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\s]+", text) if part.strip()]


# --- the estate -----------------------------------------------------------------------------------


@dataclass
class _VSwitch:
    name: str
    source: str
    distributed: bool
    security: dict[str, bool] = field(default_factory=dict)
    uplinks: list[str] = field(default_factory=list)
    portgroups: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Host:
    name: str
    source: str
    nics: dict[str, dict[str, Any]] = field(default_factory=dict)
    vswitches: dict[str, _VSwitch] = field(default_factory=dict)
    management: list[dict[str, Any]] = field(default_factory=list)


# ESXi's own defaults (the topology format's vendor defaults), written explicitly
_STANDARD_DEFAULT = {"promiscuous": False, "mac_changes": True, "forged_transmits": True}
_DISTRIBUTED_DEFAULT = {"promiscuous": False, "mac_changes": False, "forged_transmits": False}


class _Reader:
    def __init__(self, tabs: dict[str, Tab]) -> None:
        self.tabs = tabs
        self.out = Imported()
        self.hosts: dict[str, _Host] = {}
        # distributed switch -> (source, its port groups); port group name -> switches
        self.dvs: dict[str, _VSwitch] = {}
        self.dv_members: dict[str, set[str]] = {}
        self.dv_of_pg: dict[str, list[str]] = {}

    def host(self, name: str, source: str) -> _Host:
        found = self.hosts.get(name)
        if found is None:
            found = self.hosts[name] = _Host(name, source)
        return found

    def security(self, tab: Tab, row: Row) -> dict[str, bool]:
        out = {}
        for column in _SECURITY:
            text = row[column.key]
            if not text:
                continue  # blank: inherited (a port group) or ESXi's default (a switch)
            value = _bool(text)
            if value is None:
                self.out.warn(
                    tab.source(row),
                    f"{tab.columns[column.key]} {text!r} is neither True nor False; "
                    "taking it as not set",
                )
                continue
            out[column.key] = value
        return out

    # - switches and port groups

    def standard_switches(self) -> None:
        tab = self.tabs["vSwitch"]
        for row in tab.rows:
            if not row["host"] or not row["switch"]:
                continue
            host = self.host(row["host"], tab.source(row))
            if row["switch"] in host.vswitches:
                self.out.warn(
                    tab.source(row), f"vSwitch {row['switch']} listed twice on {host.name}"
                )
                continue
            vswitch = _VSwitch(row["switch"], tab.source(row), False)
            vswitch.security = {**_STANDARD_DEFAULT, **self.security(tab, row)}
            vswitch.uplinks = _split(row["uplinks"])
            host.vswitches[vswitch.name] = vswitch
        tab = self.tabs["vPort"]
        for row in tab.rows:
            if not row["host"] or not row["portgroup"]:
                continue
            host = self.host(row["host"], tab.source(row))
            found = host.vswitches.get(row["switch"])
            if found is not None:
                vswitch = found
            else:
                self.out.warn(
                    tab.source(row),
                    f"port group {row['portgroup']} is on vSwitch {row['switch']!r}, which the "
                    f"vSwitch tab does not list for {host.name}; assuming ESXi's default policy",
                )
                vswitch = host.vswitches[row["switch"]] = _VSwitch(
                    row["switch"], tab.source(row), False, dict(_STANDARD_DEFAULT)
                )
            vlan = row["vlan"] or "0"
            if not vlan.isdigit() or int(vlan) > 4095:
                raise ImportSourceError(
                    tab.file,
                    f"expected a VLAN id 0-4095 (4095: all VLANs to the guest), got {vlan!r}",
                    tab.where(row, "vlan"),
                )
            pg: dict[str, Any] = {
                "name": row["portgroup"],
                "source": tab.source(row),
                "vlan": int(vlan),
            }
            overrides = self.security(tab, row)
            if overrides:
                pg["security"] = overrides
            if pg["name"] in vswitch.portgroups:
                self.out.warn(tab.source(row), f"port group {pg['name']} listed twice")
                continue
            vswitch.portgroups[pg["name"]] = pg

    def distributed_switches(self) -> None:
        tab = self.tabs["dvSwitch"]
        for row in tab.rows:
            name = row["switch"]
            if not name:
                continue
            self.dvs.setdefault(
                name, _VSwitch(name, tab.source(row), True, dict(_DISTRIBUTED_DEFAULT))
            )
            self.dv_members.setdefault(name, set()).update(
                m.strip() for m in row["members"].split(",") if m.strip()
            )
        tab = self.tabs["dvPort"]
        for row in tab.rows:
            if not row["portgroup"]:
                continue
            name, switch = row["portgroup"], row["switch"]
            if _bool(row["uplink"]) is True:
                continue  # the DVUplinks port group: the switch's uplinks, not a network
            dvs = self.dvs.get(switch)
            if dvs is None:
                self.out.warn(
                    tab.source(row),
                    f"distributed port group {name} is on {switch!r}, which the dvSwitch tab "
                    "does not list; its member hosts are those whose NICs or VMs use it",
                )
                dvs = self.dvs[switch] = _VSwitch(
                    switch, tab.source(row), True, dict(_DISTRIBUTED_DEFAULT)
                )
                self.dv_members.setdefault(switch, set())
            vlan = self.dv_vlan(tab, row)
            if vlan is None:
                continue
            pg: dict[str, Any] = {"name": name, "source": tab.source(row), "vlan": vlan}
            overrides = self.security(tab, row)
            if overrides:
                pg["security"] = overrides
            if name in dvs.portgroups:
                self.out.warn(tab.source(row), f"port group {name} listed twice on {switch}")
                continue
            dvs.portgroups[name] = pg
            self.dv_of_pg.setdefault(name, []).append(switch)

    def dv_vlan(self, tab: Tab, row: Row) -> int | dict[str, str] | None:
        """A DV port group's VLAN: an id, or trunk ranges (``0-4094``, ``100-200,300``)."""
        text = row["vlan"].replace(" ", "") or "0"
        if text.isdigit() and int(text) <= 4094:
            return int(text)
        if _RANGES.match(text):
            ids: list[str] = []
            for part in text.split(","):
                lo, _, hi = part.partition("-")
                a, b = int(lo), int(hi or lo)
                if a > b or b > 4094:
                    break
                a = max(a, 1)  # VLAN 0 in a trunk: the untagged frames, which a trunk passes
                if a <= b:
                    ids.append(str(a) if a == b else f"{a}-{b}")
            else:
                return {"trunk": ",".join(ids) if ids else "all"}
        self.out.warn(
            tab.source(row),
            f"distributed port group {row['portgroup']}: VLAN {row['vlan']!r} is neither an id "
            "nor trunk ranges (a private VLAN?); the port group is left out, and so are the "
            "NICs on it",
        )
        return None

    def uplinks(self) -> None:
        tab = self.tabs["vNIC"]
        for row in tab.rows:
            if not row["host"] or not row["device"]:
                continue
            host = self.host(row["host"], tab.source(row))
            nic: dict[str, Any] = {"name": row["device"], "source": tab.source(row)}
            pci = row["pci"]
            if pci:
                if re.fullmatch(r"(?:[0-9A-Fa-f]{4}:)?[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]", pci):
                    nic["pci"] = pci.lower()
                else:
                    self.out.warn(tab.source(row), f"PCI {pci!r} is not a PCI address; left out")
            if nic["name"] in host.nics:
                self.out.warn(tab.source(row), f"NIC {nic['name']} listed twice on {host.name}")
                continue
            host.nics[nic["name"]] = nic
            switch = row["switch"]
            if not switch:
                continue
            if switch in host.vswitches:
                host.vswitches[switch].uplinks.append(nic["name"])
            elif switch in self.dvs:
                self.dv_members[switch].add(host.name)
                self.join_dvs(host, switch).uplinks.append(nic["name"])
            else:
                self.out.warn(
                    tab.source(row),
                    f"NIC {nic['name']} is an uplink of {switch!r}, which neither the vSwitch "
                    f"nor the dvSwitch tab lists for {host.name}; left unattached",
                )

    def join_dvs(self, host: _Host, switch: str) -> _VSwitch:
        found = host.vswitches.get(switch)
        if found is None:
            dvs = self.dvs[switch]
            found = host.vswitches[switch] = _VSwitch(
                switch, dvs.source, True, dvs.security, [], dvs.portgroups
            )
        return found

    def portgroup_on(self, host: _Host, name: str, hint: str = "") -> bool:
        """Whether the host has port group ``name``; a distributed one joins the host to its
        switch (a VM or vmkernel NIC on it proves the membership)."""
        if hint and hint in host.vswitches and name in host.vswitches[hint].portgroups:
            return True
        if any(name in v.portgroups for v in host.vswitches.values()):
            return True
        switches = self.dv_of_pg.get(name, [])
        if hint in switches:
            switches = [hint]
        if len(switches) == 1:
            self.join_dvs(host, switches[0])
            return True
        return False

    # - vmkernel

    def vmkernel(self) -> None:
        tab = self.tabs["vSC_VMK"]
        if tab.rows and "services" not in tab.columns:
            self.out.warn(
                f"{tab.label} row 1",
                "this RVTools version writes no Services column; every vmkernel adapter is "
                "taken as a management interface (exposure is not understated)",
            )
        for row in tab.rows:
            if not row["host"] or not row["device"]:
                continue
            source = tab.source(row)
            host = self.host(row["host"], source)
            pg = row["portgroup"]
            if not self.portgroup_on(host, pg):
                self.out.warn(
                    source,
                    f"vmkernel adapter {row['device']} is on port group {pg!r}, which "
                    f"{host.name} does not have; left out",
                )
                continue
            vmk: dict[str, Any] = {"name": row["device"], "source": source, "portgroup": pg}
            addresses = self.vmk_addresses(tab, row)
            if addresses:
                vmk["address"] = addresses[0] if len(addresses) == 1 else addresses
            mac = _mac(row["mac"]) if row["mac"] else None
            if mac:
                vmk["mac"] = mac
            if "services" in tab.columns:
                vmk["services"] = self.services(tab, row)
            host.management.append(vmk)

    def vmk_addresses(self, tab: Tab, row: Row) -> list[str]:
        out = []
        ip, mask = row["ip"], row["mask"]
        if ip:
            try:
                out.append(str(ipaddress.ip_interface(f"{ip}/{mask or 32}")))
            except ValueError:
                self.out.warn(
                    tab.source(row), f"address {ip!r} with mask {mask!r} is not an IPv4 address"
                )
            else:
                if not mask:
                    self.out.warn(tab.source(row), f"address {ip} has no subnet mask; /32 taken")
        for text in _split(row["ip6"].replace(",", " ")):
            try:
                iface = ipaddress.ip_interface(text if "/" in text else f"{text}/128")
            except ValueError:
                self.out.warn(tab.source(row), f"{text!r} is not an IPv6 address")
                continue
            if not iface.ip.is_link_local:
                out.append(str(iface))
        return out

    def services(self, tab: Tab, row: Row) -> list[str]:
        found: list[str] = []
        for word in re.split(r"[,;]", row["services"]):
            key = re.sub(r"[^a-z]", "", word.lower())
            if not key:
                continue
            service = _SERVICES.get(key)
            if service is None:
                self.out.warn(
                    tab.source(row), f"vmkernel service {word.strip()!r} is not one netseg models"
                )
            elif service not in found:
                found.append(service)
        return found

    # - VMs

    def guests(self) -> None:
        info, network = self.tabs["vInfo"], self.tabs["vNetwork"]
        ident = next(
            (k for k in ("vm_uuid", "vm_id") if k in info.columns and k in network.columns), "vm"
        )
        scope = next(
            (k for k in ("sdk_uuid", "sdk_server") if k in info.columns and k in network.columns),
            None,
        )

        def key(row: Row) -> tuple[str, str]:
            return (row[scope] if scope else "", row[ident] or row["vm"])

        attributes = _custom_attribute_columns(info)
        vms: dict[tuple[str, str], dict[str, Any]] = {}
        templates: set[tuple[str, str]] = set()
        names: dict[str, str] = {}
        for row in info.rows:
            if not row["vm"]:
                continue
            if _bool(row["template"]) is True:
                templates.add(key(row))
                continue  # a template never runs; its clones appear as VMs of their own
            source = info.source(row)
            name = row["vm"]
            if name in names:
                unique = f"{name} ({row['vm_id'] or row['vm_uuid'] or row.number})"
                self.out.warn(
                    source,
                    f"VM name {name!r} is also the VM of {names[name]}; written as {unique!r}",
                )
                name = unique
            names[name] = source
            host = self.host(row["host"], source) if row["host"] else None
            guest: dict[str, Any] = {"name": name, "source": source, "host": row["host"]}
            if host is None:
                self.out.warn(source, f"VM {name} names no host; left out")
                continue
            facts: dict[str, Any] = {}
            if row["folder"]:
                facts["folder"] = row["folder"]
            tags = [t.strip() for t in row["tags"].split(",") if t.strip()]
            if row["annotation"]:
                tags.append(row["annotation"])
            tags += [f"{h}={row.values[k]}" for k, h in attributes if row.values.get(k)]
            if tags:
                facts["tags"] = tags
            if facts:
                guest["_facts"] = facts
            guest["nics"] = []
            if key(row) in vms:
                self.out.warn(
                    source,
                    f"VM {row['vm']!r} is listed twice and the tabs carry no VM ID or UUID to "
                    "tell the two apart; keeping the first",
                )
                continue
            vms[key(row)] = guest
        for row in network.rows:
            if not row["vm"] or _bool(row["template"]) is True:
                continue
            source = network.source(row)
            known = vms.get(key(row))
            if known is None:
                if key(row) not in templates:
                    self.out.warn(source, f"VM {row['vm']!r} is not in the vInfo tab; left out")
                continue
            guest = known
            host = self.hosts[guest["host"]]
            pg = row["network"]
            if not pg:
                self.out.warn(
                    source, f"{row['label'] or 'a NIC'} of {guest['name']} is on no network"
                )
                continue
            if not self.portgroup_on(host, pg, row["switch"]):
                self.out.warn(
                    source,
                    f"{guest['name']}: port group {pg!r} is not on its host {host.name} "
                    "(an NSX segment, or a tab filtered out?); the NIC is left out",
                )
                continue
            nic: dict[str, Any] = {"source": source, "portgroup": pg}
            owners = sorted(v.name for v in host.vswitches.values() if pg in v.portgroups)
            if len(owners) > 1:  # one port group name on two switches: say which
                if row["switch"] not in owners:
                    self.out.warn(
                        source,
                        f"port group {pg!r} is on {', '.join(owners)} of {host.name} and the "
                        f"row names no switch of them; taking {owners[0]}",
                    )
                nic["vswitch"] = row["switch"] if row["switch"] in owners else owners[0]
            label = row["label"] or f"nic{len(guest['nics'])}"
            if any(n["name"] == label for n in guest["nics"]):
                label = f"{label} ({row.number})"
            nic["name"] = label
            mac = _mac(row["mac"]) if row["mac"] else None
            if row["mac"] and mac is None:
                self.out.warn(source, f"MAC {row['mac']!r} is not a MAC address; left out")
            if mac:
                nic["mac"] = mac  # one MAC twice: left out on the later NIC, after merging
            addresses = self.guest_addresses(network, row)
            if addresses:
                nic["address"] = addresses[0] if len(addresses) == 1 else addresses
            guest["nics"].append(nic)
        for guest in vms.values():
            guest["nics"].sort(key=lambda n: natural_key(n["name"]))
            if not guest["nics"]:
                del guest["nics"]
            self.out.entities("guests").append(guest)
        self.out.entities("guests").sort(key=lambda g: natural_key(g["name"]))

    def guest_addresses(self, tab: Tab, row: Row) -> list[str]:
        """The guest IPs VMware Tools reported; RVTools gives no prefix, so each is written as
        a single address (/32, /128): certain, where the subnet is not."""
        out = []
        for text in _split(row["ipv4"]) + _split(row["ipv6"]):
            try:
                address = ipaddress.ip_address(text.split("/")[0])
            except ValueError:
                self.out.warn(tab.source(row), f"{text!r} is not an IP address; left out")
                continue
            if address.is_link_local:
                continue
            text = str(ipaddress.ip_interface(f"{address}/{address.max_prefixlen}"))
            if text not in out:
                out.append(text)
        return out

    # - the document

    def document(self) -> Imported:
        self.standard_switches()
        self.distributed_switches()
        for switch, members in self.dv_members.items():
            for name in sorted(members):
                self.join_dvs(self.host(name, self.dvs[switch].source), switch)
        self.uplinks()
        self.vmkernel()
        self.guests()
        for name in sorted(self.hosts, key=natural_key):
            self.out.entities("hosts").append(self.host_entity(self.hosts[name]))
        return self.out

    def host_entity(self, host: _Host) -> dict[str, Any]:
        entity: dict[str, Any] = {"name": host.name, "source": host.source, "hypervisor": "esxi"}
        for vswitch in host.vswitches.values():
            for uplink in vswitch.uplinks:
                host.nics.setdefault(uplink, {"name": uplink, "source": vswitch.source})
        if host.nics:
            entity["nics"] = [host.nics[n] for n in sorted(host.nics, key=natural_key)]
        vswitches = []
        for name in sorted(host.vswitches, key=natural_key):
            v = host.vswitches[name]
            body: dict[str, Any] = {"name": v.name, "source": v.source}
            if v.distributed:
                body["type"] = "distributed"
            uplinks = list(dict.fromkeys(v.uplinks))
            if uplinks:
                body["uplinks"] = sorted(uplinks, key=natural_key)
            body["security"] = dict(v.security)
            body["portgroups"] = [v.portgroups[p] for p in sorted(v.portgroups, key=natural_key)]
            vswitches.append(body)
        if vswitches:
            entity["vswitches"] = vswitches
        if host.management:
            entity["management"] = sorted(host.management, key=lambda m: natural_key(m["name"]))
        return entity


def _custom_attribute_columns(info: Tab) -> list[tuple[str, str]]:
    """vInfo's custom attributes: RVTools writes one column per attribute right after
    'Annotation'. They are read as zone-rule tags ``NAME=VALUE``."""
    return [(k, h) for k, h in info.columns.items() if k.startswith("attr:")]


class RVToolsImporter:
    """An RVTools ``.xlsx`` export, or a folder of its CSV export."""

    name: ClassVar[str] = "rvtools"
    options: ClassVar[frozenset[str]] = frozenset()

    def read(self, request: ImportRequest) -> Imported:
        if not request.inputs:
            raise ImportSourceError(
                "netseg import rvtools", "give the RVTools .xlsx export (or its CSV folder)"
            )
        imported = merge(_Reader(read_tabs(path)).document() for path in request.inputs)
        unique_macs(imported)
        return imported
