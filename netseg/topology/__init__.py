"""The file-format boundary: read, check once and build a :class:`~netseg.model.Topology`.

Three steps, in one direction:

1. a reader (:mod:`netseg.topology.readers`: YAML, JSON, ``git:REV:PATH``, text) produces the
   marked document: one tree whose values remember file, line and column, includes merged in;
2. :func:`build_document` checks that document once against the format declaration
   (:mod:`netseg.topology.spec`), runs the caller's document checks, and
3. builds the model (:mod:`netseg.topology.build`), cross-references included.

``load(path)`` and ``loads(text)`` either return a valid topology or raise
:class:`~netseg.errors.TopologyError` carrying every problem of the file, each located as
``FILE:LINE:COL: path: message``. Nothing is analysed until the file is valid.

This package knows the format, not the rules: rule ids named in ``policy.severity`` and
``policy.waivers`` are checked by :func:`netseg.rules.catalogue.check_policy_rules`, which
:func:`netseg.load` passes as a document check.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from netseg.collector import collector_paused
from netseg.errors import Problem, TopologyError
from netseg.model.topology import Topology
from netseg.topology.build import Builder
from netseg.topology.readers import (
    Document,
    GitReader,
    JsonReader,
    Reader,
    TextReader,
    YamlReader,
    reader_for,
)
from netseg.topology.source import MDict, decode_text
from netseg.topology.spec import TOPOLOGY, Problems, Where, json_schema

__all__ = [
    "Document",
    "DocumentCheck",
    "GitReader",
    "JsonReader",
    "Reader",
    "TextReader",
    "YamlReader",
    "build_document",
    "json_schema",
    "load",
    "loads",
    "read",
    "reader_for",
]

#: A check of the whole document that needs knowledge this package does not have (the rule
#: ids): called once with the checked document; reports through ``problems``.
DocumentCheck = Callable[[MDict, Problems], None]


def load(
    path: str | os.PathLike[str],
    display: str | None = None,
    *,
    checks: Sequence[DocumentCheck] = (),
) -> Topology:
    """Load and check a topology file (YAML, or JSON when the name ends in ``.json``).

    ``git:REV:PATH`` loads the file as it was at revision REV of the git repository around the
    current directory (includes are read from the same revision), so a pipeline can compare a
    change with its base without a second checkout.
    """
    return read(reader_for(path, display), checks=checks)


def loads(
    text: str | bytes,
    file: str = "<string>",
    json_form: bool = False,
    *,
    checks: Sequence[DocumentCheck] = (),
) -> Topology:
    """Load and check a topology from text. ``include`` is resolved against the current
    directory."""
    if isinstance(text, bytes):
        text = decode_text(text, file)
    return read(TextReader(text, file, json_form, Path(".")), checks=checks)


def read(reader: Reader, *, checks: Sequence[DocumentCheck] = ()) -> Topology:
    """The topology an input format's reader produces, checked once and built."""
    # Loading allocates millions of small objects and frees none: the cyclic collector would
    # scan them over and over for nothing (about a quarter of the time on 50,000 guests).
    with collector_paused():
        return build_document(reader.read(), checks=checks)


def build_document(document: Document | MDict, *, checks: Sequence[DocumentCheck] = ()) -> Topology:
    """Check a marked document once against the format, run ``checks``, then build it.

    ``document`` is a reader's :class:`Document` or a bare marked tree (an
    :class:`~netseg.topology.source.MDict` as :func:`netseg.topology.source.parse` returns).
    Raises TopologyError with every problem, sorted by file and position.
    """
    if isinstance(document, MDict):
        document = Document(document, document.file, Problems(document.file))
    root, display, problems = document.root, document.file, document.problems
    checked = TOPOLOGY.check(root, Where(None, None, ""), problems)
    topology = None
    if isinstance(checked, MDict):
        for check in checks:
            check(checked, problems)
        topology = Builder(checked, root, display, problems).build()
    if problems or topology is None:
        if document.precise is not None:
            _raise_precisely(document.precise, checks)
        raise TopologyError(_sorted(problems))
    return topology


def _raise_precisely(precise: Callable[[], Document], checks: Sequence[DocumentCheck]) -> None:
    """Re-read an invalid document in the form that locates every key, and raise its problems
    (keeping the first read's problems when that form rejects the input)."""
    try:
        build_document(precise(), checks=checks)
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
