"""The file-format boundary: read, validate and build a :class:`~netseg.model.Topology`.

``load(path)`` and ``loads(text)`` either return a valid topology or raise
:class:`~netseg.errors.TopologyError` carrying every problem of the file, each located as
``FILE:LINE:COL: path: message``. Nothing is analysed until the file is valid.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from netseg.collector import collector_paused
from netseg.errors import Problem, TopologyError
from netseg.model.topology import Topology
from netseg.topology.build import Builder
from netseg.topology.source import MDict, MList, decode_text, parse, read_text
from netseg.topology.spec import MERGED_LISTS, TOPOLOGY, Problems, Where, json_schema

__all__ = ["json_schema", "load", "loads"]


Reader = Callable[[Path, str], str]  # (path, name to show) -> text; raises TopologyError


def load(path: str | os.PathLike[str], display: str | None = None) -> Topology:
    """Load and validate a topology file (YAML, or JSON when the name ends in ``.json``).

    ``git:REV:PATH`` loads the file as it was at revision REV of the git repository around the
    current directory (includes are read from the same revision), so a pipeline can compare a
    change with its base without a second checkout.
    """
    spec = os.fspath(path)
    if isinstance(spec, str) and spec.startswith("git:"):
        return _load_from_git(spec)
    p = Path(path)
    name = display if display is not None else str(path)
    text = read_text(p, name)
    return _load_text(text, name, p.suffix.lower() == ".json", base=p.parent)


def _load_from_git(spec: str) -> Topology:
    rev, sep, rel = spec[len("git:") :].partition(":")
    if not sep or not rev or not rel:
        raise TopologyError(
            [
                Problem(
                    spec,
                    0,
                    0,
                    "",
                    "expected git:REV:PATH, e.g. git:origin/main:topologies/prod.yaml",
                )
            ]
        )

    def read_git(target: Path, shown: str) -> str:
        ref = f"{rev}:./{target.as_posix()}"
        try:
            done = subprocess.run(
                ["git", "show", ref], capture_output=True, check=False, timeout=60
            )
        except FileNotFoundError:
            raise TopologyError([Problem(shown, 0, 0, "", "git is not installed")]) from None
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = reason[-1] if reason else "git show failed"
            raise TopologyError([Problem(shown, 0, 0, "", f"cannot read from git: {detail}")])
        return decode_text(done.stdout, shown)

    target = Path(rel)
    text = read_git(target, spec)
    return _load_text(
        text,
        spec,
        target.suffix.lower() == ".json",
        base=target.parent,
        reader=read_git,
        include_prefix=f"git:{rev}:",
    )


def loads(text: str | bytes, file: str = "<string>", json_form: bool = False) -> Topology:
    """Load and validate a topology from text. ``include`` is resolved against the current
    directory."""
    if isinstance(text, bytes):
        text = decode_text(text, file)
    return _load_text(text, file, json_form, base=Path("."))


def _load_text(
    text: str,
    display: str,
    json_form: bool,
    base: Path,
    reader: Reader = read_text,
    include_prefix: str = "",
) -> Topology:
    # Loading allocates millions of small objects and frees none: the cyclic collector would
    # scan them over and over for nothing (about a quarter of the time on 50,000 guests).
    with collector_paused():
        return _load_unpaused(text, display, json_form, base, reader, include_prefix)


def _load_unpaused(
    text: str, display: str, json_form: bool, base: Path, reader: Reader, include_prefix: str
) -> Topology:
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
        _merge_includes(doc, raw, base, display, problems, (display,), reader, include_prefix)
    topology = None
    if isinstance(doc, MDict):
        topology = Builder(doc, raw, display, problems).build()
    if problems or topology is None:
        if json_form:
            _raise_with_precise_marks(text, display, base, reader, include_prefix)
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


def _inside(target: Path, folder: Path) -> bool:
    """Whether ``target``, every symbolic link resolved, is inside ``folder`` (resolved too)."""
    real, base = os.path.realpath(target), os.path.realpath(folder)
    return os.path.commonpath([real, base]) == base


def _merge_includes(
    doc: MDict,
    raw: MDict,
    base_dir: Path,
    display: str,
    problems: Problems,
    chain: tuple[str, ...],
    reader: Reader,
    include_prefix: str,
) -> None:
    includes = doc.get("include")
    if not isinstance(includes, list):
        return
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
        shown = include_prefix + os.path.normpath(str(target))
        if not include_prefix and not _inside(target, base_dir):
            # a symbolic link (to a file, or a folder on the way) must not lead outside either
            problems.add(
                where,
                f"include {rel!r} must not leave the including file's folder "
                f"(it is a symbolic link to {os.path.realpath(target)})",
            )
            continue
        if shown in chain:
            problems.add(where, f"include cycle: {' -> '.join([*chain, shown])}")
            continue
        try:
            text = reader(target, shown)
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
            _merge_includes(
                sub,
                sub_raw,
                target.parent,
                shown,
                problems,
                (*chain, shown),
                reader,
                include_prefix,
            )
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


def _raise_with_precise_marks(
    text: str, display: str, base: Path, reader: Reader, include_prefix: str
) -> None:
    """JSON marks point at objects; YAML's composer reads JSON too and knows every key's
    position, so an invalid JSON file is re-read that way for exact messages."""
    if len(text) > 16 * 1024 * 1024:
        return
    try:
        _load_text(
            text, display, json_form=False, base=base, reader=reader, include_prefix=include_prefix
        )
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
