"""Input formats: readers that turn a source into the one marked document netseg checks.

A reader produces a :class:`Document`: one tree of :class:`~netseg.topology.source.MDict` /
:class:`~netseg.topology.source.MList` values that remember the file, line and column they were
written at, with every ``include`` already merged in (its lists appended, its zones added), and
the problems met while reading (an include that is missing, absolute, leaves its folder,
loops, or brings a ``policy``). Nothing is checked against the format here:
:func:`netseg.topology.build_document` checks the whole document once, then builds the model.

The native formats are the first implementations of :class:`Reader` (a Protocol in the style
of nornir's inventory plugins, ``read() -> Document``): :class:`YamlReader`,
:class:`JsonReader`, :class:`GitReader` (``git:REV:PATH``, includes from the same revision)
and :class:`TextReader` (text already in memory). :func:`reader_for` picks one by name.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from netseg.errors import Problem, TopologyError
from netseg.topology.source import MDict, MList, decode_text, parse, read_text
from netseg.topology.spec import MERGED_LISTS, TOPOLOGY, Problems, Where

__all__ = [
    "Document",
    "Fetch",
    "GitReader",
    "JsonReader",
    "Reader",
    "TextReader",
    "YamlReader",
    "reader_for",
]

#: Reads the text of a file an include names: (path, name to show) -> text; raises TopologyError.
Fetch = Callable[[Path, str], str]


@dataclass
class Document:
    """One topology as read: the merged marked tree (unchecked) and the reading problems.

    ``precise`` re-reads the same input in a form whose marks point at every key (JSON is
    parsed with the standard library, whose marks point at objects); the loader uses it only
    to locate the problems of an invalid document exactly.
    """

    root: MDict
    file: str
    problems: Problems
    precise: Callable[[], Document] | None = field(default=None, repr=False)


class Reader(Protocol):
    """An input format: ``read()`` returns the marked document or raises TopologyError."""

    def read(self) -> Document: ...


@dataclass(frozen=True)
class TextReader:
    """Topology text already in memory. ``base`` is the folder includes are resolved in."""

    text: str
    file: str = "<string>"
    json_form: bool = False
    base: Path = Path(".")
    fetch: Fetch = read_text
    include_prefix: str = ""

    def read(self) -> Document:
        raw = parse(self.text, self.file, self.json_form)
        if not isinstance(raw, MDict):
            line, col = getattr(raw, "mark", (1, 1))
            raise TopologyError(
                [
                    Problem(
                        self.file,
                        line,
                        col,
                        "",
                        "the top level must be a mapping (netseg: 1, name: …, hosts: […])",
                    )
                ]
            )
        _check_version(raw, self.file)
        problems = Problems(self.file)
        if "include" in raw:
            _merge_includes(
                raw, raw, self.base, problems, (self.file,), self.fetch, self.include_prefix
            )
        return Document(raw, self.file, problems, self._precise())

    def _precise(self) -> Callable[[], Document] | None:
        """JSON marks point at objects; YAML's composer reads JSON too and knows every key's
        position. Not for very large files, whose problems are reported as the JSON read
        located them."""
        if not self.json_form or len(self.text) > 16 * 1024 * 1024:
            return None
        yaml_form = TextReader(
            self.text, self.file, False, self.base, self.fetch, self.include_prefix
        )
        return yaml_form.read


@dataclass(frozen=True)
class YamlReader:
    """A YAML topology file."""

    path: Path
    display: str | None = None

    def read(self) -> Document:
        name = self.display if self.display is not None else str(self.path)
        return TextReader(read_text(self.path, name), name, False, self.path.parent).read()


@dataclass(frozen=True)
class JsonReader:
    """A JSON topology file (the standard library's parser: fast on generated estates)."""

    path: Path
    display: str | None = None

    def read(self) -> Document:
        name = self.display if self.display is not None else str(self.path)
        return TextReader(read_text(self.path, name), name, True, self.path.parent).read()


@dataclass(frozen=True)
class GitReader:
    """``git:REV:PATH``: the file as it was at revision REV of the git repository around the
    current directory; its includes are read from the same revision."""

    spec: str

    def read(self) -> Document:
        rev, sep, rel = self.spec[len("git:") :].partition(":")
        if not self.spec.startswith("git:") or not sep or not rev or not rel:
            raise TopologyError(
                [
                    Problem(
                        self.spec,
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
        return TextReader(
            read_git(target, self.spec),
            self.spec,
            target.suffix.lower() == ".json",
            target.parent,
            read_git,
            f"git:{rev}:",
        ).read()


def reader_for(path: str | os.PathLike[str], display: str | None = None) -> Reader:
    """The native reader of ``path``: ``git:REV:PATH``, JSON by the ``.json`` suffix, else YAML."""
    spec = os.fspath(path)
    if isinstance(spec, str) and spec.startswith("git:"):
        return GitReader(spec)
    p = Path(path)
    return JsonReader(p, display) if p.suffix.lower() == ".json" else YamlReader(p, display)


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
    including: MDict,
    base_dir: Path,
    problems: Problems,
    chain: tuple[str, ...],
    fetch: Fetch,
    include_prefix: str,
) -> None:
    """Append the lists and add the zones of every file ``including`` includes into ``doc``.

    An included file contributes lists and zones only; what else it holds (its version, name,
    description, its own ``include``) is checked here, as it is not merged into the document.
    """
    includes = including.get("include")
    if not isinstance(includes, list):
        return
    for i, rel in enumerate(includes):
        where = Where(including["include"], i, f"include[{i}]")
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
            text = fetch(target, shown)
            sub = parse(text, shown, target.suffix.lower() == ".json")
        except TopologyError as exc:
            for p in exc.problems:
                if p.line:
                    problems.items.append((p.file, p.line, p.column, p.path, p.message))
                else:  # the file itself is missing or unreadable: say so at the include
                    problems.add(where, f"cannot include {rel!r}: {p.message}")
            continue
        if not isinstance(sub, MDict):
            problems.add(where, f"included file {shown} must hold a mapping of lists")
            continue
        _check_unmerged(sub, problems)
        if isinstance(sub.get("include"), list):
            _merge_includes(
                doc, sub, target.parent, problems, (*chain, shown), fetch, include_prefix
            )
        for key in MERGED_LISTS:
            if isinstance(sub.get(key), MList):
                doc[key] = _appended(doc, key, sub[key])
        if isinstance(sub.get("zones"), MDict):
            _add_zones(doc, sub["zones"], problems)
        if "policy" in sub:
            problems.add(
                Where(sub, "policy", "policy"),
                "an included file contributes lists and zones; 'policy' belongs in the main file",
                at_key=True,
            )


def _check_unmerged(sub: MDict, problems: Problems) -> None:
    """Check what an included file holds besides its lists and zones (which are checked with
    the document they are merged into)."""
    rest = MDict(sub.file, sub.mark)
    for key, value in sub.items():
        merged = (key in MERGED_LISTS and isinstance(value, MList)) or (
            key == "zones" and isinstance(value, MDict)
        )
        if not merged:
            rest[key] = value
            rest.key_marks[key] = sub.key_marks.get(key, sub.mark)
            rest.value_marks[key] = sub.value_marks.get(key, sub.mark)
    if rest:
        checked: Any = TOPOLOGY.optional().check(rest, Where(None, None, ""), problems)
        if isinstance(checked, MDict) and "include" in checked:
            sub["include"] = checked["include"]


def _appended(doc: MDict, key: str, items: MList) -> MList:
    """``doc[key]`` followed by ``items``, each item keeping the file it was written in."""
    merged = doc.get(key)
    combined = MList(merged.file if isinstance(merged, MList) else doc.file, doc.mark)
    files: dict[int, str] = {}
    if isinstance(merged, list):
        combined.extend(merged)
        combined.item_marks = list(getattr(merged, "item_marks", []))
        if isinstance(merged, MList) and merged.item_files:
            files.update(merged.item_files)
    start = len(combined)
    combined.extend(items)
    combined.item_marks.extend(items.item_marks)
    for j in range(len(items)):
        files[start + j] = (items.item_files or {}).get(j, items.file)
    combined.item_files = {j: f for j, f in files.items() if f != combined.file} or None
    return combined


def _add_zones(doc: MDict, add: MDict, problems: Problems) -> None:
    zones = doc.get("zones")
    if not isinstance(zones, MDict):
        if zones is not None:
            return  # the document's own 'zones' is wrong; the check says so
        zones = MDict(add.file, add.mark)
        doc["zones"] = zones
    for z, v in add.items():
        if z in zones:
            problems.add(
                Where(add, z, f"zones.{z}"),
                f"zone {z!r} is already declared in {zones.file}",
                at_key=True,
            )
        else:
            zones[z] = v
            zones.key_marks[z] = add.key_marks.get(z, add.mark)
            zones.value_marks[z] = add.value_marks.get(z, add.mark)
