"""The file-format boundary: read, validate and build a :class:`~netseg.model.Topology`.

``load(path)`` and ``loads(text)`` either return a valid topology or raise
:class:`~netseg.errors.TopologyError` carrying every problem of the file, each located as
``FILE:LINE:COL: path: message``. Nothing is analysed until the file is valid.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path, PurePosixPath

from netseg.errors import Problem, TopologyError
from netseg.model.topology import Topology
from netseg.topology.build import Builder
from netseg.topology.source import MDict, MList, decode_text, parse, read_text
from netseg.topology.spec import MERGED_LISTS, TOPOLOGY, Problems, Where, json_schema

__all__ = ["json_schema", "load", "loads"]


def load(path: str | os.PathLike[str], display: str | None = None) -> Topology:
    """Load and validate a topology file (YAML, or JSON when the name ends in ``.json``)."""
    p = Path(path)
    name = display if display is not None else str(path)
    text = read_text(p, name)
    return _load_text(text, name, p.suffix.lower() == ".json", base=p.parent)


def loads(text: str | bytes, file: str = "<string>", json_form: bool = False) -> Topology:
    """Load and validate a topology from text. ``include`` is resolved against the current
    directory."""
    if isinstance(text, bytes):
        text = decode_text(text, file)
    return _load_text(text, file, json_form, base=Path("."))


def _load_text(text: str, display: str, json_form: bool, base: Path) -> Topology:
    # Loading allocates millions of small objects and frees none: the cyclic collector would
    # scan them over and over for nothing (about a quarter of the time on 50,000 guests).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _load_unpaused(text, display, json_form, base)
    finally:
        if paused:
            gc.enable()


def _load_unpaused(text: str, display: str, json_form: bool, base: Path) -> Topology:
    raw = parse(text, display, json_form)
    problems = Problems(display)
    if not isinstance(raw, MDict):
        line, col = getattr(raw, "mark", (1, 1))
        raise TopologyError(
            [
                Problem(
                    display,
                    line,
                    col,
                    "",
                    "the top level must be a mapping (netseg: 1, name: …, hosts: […])",
                )
            ]
        )
    _check_version(raw, display)
    doc = TOPOLOGY.check(raw, Where(None, None, ""), problems)
    if isinstance(doc, MDict) and "include" in doc:
        _merge_includes(doc, raw, base, display, problems, chain=(display,))
    topology = None
    if isinstance(doc, MDict):
        topology = Builder(doc, raw, display, problems).build()
    if problems or topology is None:
        if json_form:
            _raise_with_precise_marks(text, display, base)
        raise TopologyError(_sorted(problems))
    return topology


def _check_version(raw: MDict, display: str) -> None:
    """An unsupported version is the only problem worth reporting: nothing else can be read."""
    version = raw.get("netseg")
    if version is None or version == 1:
        return
    line, col = raw.value_marks.get("netseg", raw.mark)
    raise TopologyError(
        [
            Problem(
                display,
                line,
                col,
                "netseg",
                f"unsupported schema version {version!r}; this netseg reads version 1",
            )
        ]
    )


def _merge_includes(
    doc: MDict, raw: MDict, base: Path, display: str, problems: Problems, chain: tuple[str, ...]
) -> None:
    includes = doc.get("include")
    if not isinstance(includes, list):
        return
    base_dir = Path(os.path.dirname(display)) if display not in ("<string>", "-") else base
    for i, rel in enumerate(includes):
        where = Where(raw["include"], i, f"include[{i}]")
        if not isinstance(rel, str):
            continue
        pure = PurePosixPath(rel.replace("\\", "/"))
        if pure.is_absolute() or Path(rel).is_absolute():
            problems.add(where, f"include {rel!r} must be a relative path")
            continue
        if ".." in pure.parts:
            problems.add(
                where, f"include {rel!r} must not leave the including file's folder ('..')"
            )
            continue
        target = base_dir / rel
        shown = os.path.normpath(str(target))
        if shown in chain:
            problems.add(where, f"include cycle: {' -> '.join([*chain, shown])}")
            continue
        try:
            text = read_text(target, shown)
            sub_raw = parse(text, shown, target.suffix.lower() == ".json")
        except TopologyError as exc:
            for p in exc.problems:
                if p.line:
                    problems.items.append((p.file, p.line, p.column, p.path, p.message))
                else:  # the file itself is missing or unreadable: say so at the include
                    problems.add(where, f"cannot include {rel!r}: {p.message}")
            continue
        if not isinstance(sub_raw, MDict):
            problems.add(where, f"included file {shown} must hold a mapping of lists")
            continue
        sub = TOPOLOGY.optional().check(sub_raw, Where(None, None, ""), problems)
        if not isinstance(sub, MDict):
            continue
        if "include" in sub:
            _merge_includes(sub, sub_raw, target.parent, shown, problems, (*chain, shown))
        for key in MERGED_LISTS:
            if isinstance(sub.get(key), list):
                merged = doc.get(key)
                if not isinstance(merged, list):
                    merged = MList(doc.file, doc.mark)
                    doc[key] = merged
                combined = MList(merged.file if isinstance(merged, MList) else doc.file, doc.mark)
                combined.extend(merged)
                combined.item_marks = list(getattr(merged, "item_marks", []))
                combined.extend(sub[key])
                combined.item_marks.extend(getattr(sub_raw.get(key), "item_marks", []))
                doc[key] = combined
        if isinstance(sub.get("zones"), MDict):
            zones = doc.get("zones")
            if not isinstance(zones, MDict):
                zones = MDict(sub["zones"].file, sub["zones"].mark)
                doc["zones"] = zones
            for z, v in sub["zones"].items():
                if z in zones:
                    problems.add(
                        Where(sub["zones"], z, f"zones.{z}"),
                        f"zone {z!r} is already declared in {zones.file}",
                        at_key=True,
                    )
                else:
                    zones[z] = v
                    zones.key_marks[z] = sub["zones"].key_marks.get(z, sub["zones"].mark)
                    zones.value_marks[z] = sub["zones"].value_marks.get(z, sub["zones"].mark)
        if "policy" in sub:
            problems.add(
                Where(sub_raw, "policy", "policy"),
                "an included file contributes lists and zones; 'policy' belongs in the main file",
                at_key=True,
            )


def _raise_with_precise_marks(text: str, display: str, base: Path) -> None:
    """JSON marks point at objects; YAML's composer reads JSON too and knows every key's
    position, so an invalid JSON file is re-read that way for exact messages."""
    if len(text) > 16 * 1024 * 1024:
        return
    try:
        _load_text(text, display, json_form=False, base=base)
    except TopologyError:
        raise
    except Exception:  # the YAML reader may reject JSON oddities; keep the JSON messages
        return


def _sorted(problems: Problems) -> list[Problem]:
    seen = set()
    out = []
    for item in sorted(problems.items, key=lambda t: (t[0], t[1], t[2], t[3], t[4])):
        if item in seen:
            continue
        seen.add(item)
        out.append(Problem(*item))
    return out
