"""``netseg import``: topologies from what administrators already export (importers.md).

Every source implements the small :class:`~netseg.importers.base.Importer` Protocol. The
built-in sources are listed once, in :data:`BUILTIN`, by module path so that importing this
package loads no vendor SDK: ``netseg import rvtools`` never imports pyVmomi.

``run_import`` is the whole pipeline a caller needs: read every input of one source, merge,
assign zones, check the result with the topology loader (the one home of validation), and
return the text to write.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netseg.errors import ImportSourceError, Problem, TopologyError
from netseg.importers.base import Imported, Importer, ImportRequest, ImportWarning
from netseg.importers.emit import to_json, to_yaml
from netseg.importers.zones import ZoneRules
from netseg.topology import loads

__all__ = [
    "BUILTIN",
    "ImportRequest",
    "ImportResult",
    "ImportSourceError",
    "ImportWarning",
    "Imported",
    "Importer",
    "importer",
    "run_import",
]

#: SOURCE word -> "module:Class" of its importer (loaded on first use).
BUILTIN: Mapping[str, str] = {
    "hyperv": "netseg.importers.hyperv:HypervImporter",
    "xapi": "netseg.importers.xapi:XapiImporter",
    "switch": "netseg.importers.switch:SwitchImporter",
    "libvirt": "netseg.importers.libvirt:LibvirtImporter",
    "ovs": "netseg.importers.ovs:OvsImporter",
    "netbox": "netseg.importers.netbox:NetBoxImporter",
    "rvtools": "netseg.importers.rvtools:RVToolsImporter",
    "vcenter": "netseg.importers.vcenter:VCenterImporter",
}


def importer(source: str) -> Importer:
    """The importer for a SOURCE word; ImportSourceError naming the known ones otherwise."""
    target = BUILTIN.get(source)
    if target is None:
        known = ", ".join(sorted(BUILTIN)) or "none"
        raise ImportSourceError(source, f"unknown import source (known: {known})")
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    found: Importer = cls()
    return found


@dataclass(frozen=True)
class ImportResult:
    """A checked import: the text to write, the entity counts, and the warnings."""

    text: str
    counts: Mapping[str, int]
    warnings: tuple[ImportWarning, ...]


def run_import(
    source: str,
    request: ImportRequest,
    *,
    name: str,
    json_form: bool = False,
    zones: ZoneRules | None = None,
    display: str = "<import>",
    header: str = "",
) -> ImportResult:
    """Import, then check the topology exactly as ``netseg validate`` would read it.

    Raises ImportSourceError for an input that is not what the source reads, and TopologyError
    when the estate cannot form a valid topology (each problem named with the export row or
    line behind it)."""
    imported = importer(source).read(request)
    document: dict[str, Any] = {"netseg": 1, "name": name, **imported.document}
    document.setdefault("hosts", [])
    if zones is not None:
        zones.apply(document)
    text = to_json(document) if json_form else to_yaml(document, header)
    try:
        topology = loads(text, display, json_form=json_form)
    except TopologyError as exc:
        raise TopologyError(_traced(exc.problems, text)) from None
    counts = {
        "hosts": len(topology.hosts),
        "guests": len(topology.guests),
        "switches": len(topology.switches),
        "routers": len(topology.routers),
        "endpoints": len(topology.endpoints),
    }
    return ImportResult(text, counts, tuple(imported.warnings))


def _traced(problems: tuple[Problem, ...], text: str) -> list[Problem]:
    """Problems of the generated text, each followed by the provenance of its entity, since the
    user never saw the generated lines."""
    lines = text.splitlines()
    out = []
    for p in problems:
        origin = _origin(lines, p.line)
        message = f"{p.message} (imported from {origin})" if origin else p.message
        out.append(Problem(p.file, p.line, p.column, p.path, message))
    return out


def _origin(lines: list[str], line: int) -> str | None:
    if lines and lines[0].startswith("{"):
        # JSON marks point at the entity's opening brace; its "source" follows its "name"
        # (within a few lines); else it belongs to the nearest enclosing entity that has one
        here = lines[line - 1] if 0 < line <= len(lines) else ""
        depth = len(here) - len(here.lstrip())
        for text in lines[max(line - 1, 0) : line + 3]:
            if '"source": ' in text:
                return _json_source(text)
        for text in reversed(lines[: max(line - 1, 0)]):
            if '"source": ' in text and len(text) - len(text.lstrip()) < depth:
                return _json_source(text)
        return None
    for i in range(min(line, len(lines)) - 1, -1, -1):
        if "  # " in lines[i]:
            return lines[i].rsplit("  # ", 1)[1]
    return None


def _json_source(line: str) -> str:
    return str(json.loads(line.split('"source": ', 1)[1].rstrip().rstrip(",")))
