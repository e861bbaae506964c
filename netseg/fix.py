"""``netseg fix``: the smallest verified set of edits that closes the findings at or above a
severity, as a patched copy of the topology that keeps the user's file as it was.

Search, then proof. The search is greedy: each round every candidate edit the remedies
(:mod:`netseg.rules.remedies`) propose for the failing findings is applied to the current text
and re-analysed; the candidate that closes most failing findings (settings before
restructuring) without a new finding and without losing an intended flow is kept. A last pass
drops every edit the others make unnecessary. Then the proof: the patched text is loaded and
analysed from scratch and compared with the original (:func:`netseg.diff.diff`).

Intended flows are every (source, destination) pair of attachments that the policy allows on
some service and that is reachable on it before the fix: each must stay reachable on those
services. An edit that would lose one is refused and reported with the flow it breaks.

The text is edited with ruamel.yaml's round-trip mode (comments, order, quoting, flow style
and anchors are kept; only what an edit touches changes). An edit of a mapping that is
anchored changes every alias of it: the anchor says the places are one declaration (a
distributed switch shared by hosts, one firewall policy), and the edit names every place.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import ScalarString

from netseg import topology as _format
from netseg.analysis import DOCUMENT_CHECKS, Analysis, analyse
from netseg.diff import TopologyDiff, diff
from netseg.errors import NetsegError
from netseg.graph import Reachability
from netseg.model.services import ServiceSet
from netseg.model.topology import Location, Severity, Topology
from netseg.rules.engine import failing
from netseg.rules.finding import Finding
from netseg.rules.remedies import Context, Edit, Op, candidates
from netseg.topology.readers import TextReader

_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FixError(NetsegError):
    """The topology cannot be patched (an edit lands outside the file, or in JSON)."""


@dataclass(frozen=True, slots=True)
class Flow:
    """An intended flow: reachable before the fix on ``services`` the policy allows."""

    source: str
    destination: str
    services: ServiceSet


@dataclass(frozen=True)
class Refused:
    """A candidate the search did not take, and why (the flows it breaks, what it opens)."""

    edit: Edit
    lost: tuple[Flow, ...] = ()
    new: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class AppliedEdit:
    """An edit as applied: the findings it closed, and the places an anchor shares."""

    edit: Edit
    closes: tuple[Finding, ...]
    shared: tuple[str, ...] = ()


@dataclass(frozen=True)
class FixResult:
    """The edits, the patched text, and the proof."""

    file: str
    threshold: Severity
    original: str
    patched: str
    before: Analysis
    after: Analysis
    edits: tuple[AppliedEdit, ...]
    proof: TopologyDiff
    flows: tuple[Flow, ...]
    lost: tuple[Flow, ...]
    refused: tuple[Refused, ...] = ()

    @property
    def residual(self) -> tuple[Finding, ...]:
        """Findings of the fixed topology at or above the threshold."""
        return self.after.failing(self.threshold)

    @property
    def verified(self) -> bool:
        """The proof holds: nothing new, no intended flow lost."""
        return not self.proof.new_findings and not self.lost

    def patch(self) -> str:
        """A unified diff of the YAML (``--format patch``)."""
        name = self.file
        return "".join(
            difflib.unified_diff(
                self.original.splitlines(keepends=True),
                self.patched.splitlines(keepends=True),
                f"a/{name}",
                f"b/{name}",
            )
        )


# --- the round-trip document ---------------------------------------------------------------


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never refold the user's long lines
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _detect_indent(text: str, y: YAML) -> None:
    """Keep the file's own block-sequence style (``- x`` flush with or indented under the key)."""
    lines = text.splitlines()
    for k, line in enumerate(lines[:-1]):
        stripped = line.rstrip()
        if stripped.endswith(":") and not stripped.lstrip().startswith(("#", "-")):
            nxt = lines[k + 1]
            if nxt.lstrip().startswith("- "):
                key_col = len(line) - len(line.lstrip())
                dash_col = len(nxt) - len(nxt.lstrip())
                offset = dash_col - key_col
                y.indent(mapping=2, sequence=offset + 2, offset=offset)
                return


def _index(doc: Any) -> tuple[dict[tuple[int, int], Any], dict[int, list[str]]]:
    """Every mapping and sequence by its (line, column), 1-based like the model's Locations,
    and the paths at which each node (by id) appears (more than one: an anchor's aliases)."""
    at: dict[tuple[int, int], Any] = {}
    paths: dict[int, list[str]] = {}

    def walk(node: Any, path: str, depth: int) -> None:
        # every path to a node, through aliases of its ancestors too (an edit inside an
        # anchored mapping changes each alias); the loader refused recursive aliases
        if isinstance(node, CommentedMap | CommentedSeq) and depth < 64:
            paths.setdefault(id(node), []).append(path or "/")
            at.setdefault((node.lc.line + 1, node.lc.col + 1), node)
            items = node.items() if isinstance(node, CommentedMap) else enumerate(node)
            for k, v in items:
                walk(v, f"{path}/{k}", depth + 1)

    walk(doc, "", 0)
    return at, paths


def _node(index: dict[tuple[int, int], Any], loc: Location) -> Any:
    node = index.get((loc.line, loc.column))
    if node is None:
        raise FixError(f"{loc}: no declaration there to edit")
    return node


def _plain(value: Any, flow: bool) -> Any:
    """YAML data for a new value: maps and lists in flow style inside a flow collection."""
    if isinstance(value, dict):
        m = CommentedMap((k, _plain(v, flow)) for k, v in value.items())
        if flow:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        nested = any(isinstance(v, dict | list) for v in value)
        s = CommentedSeq(_plain(v, True) for v in value)
        if flow or not nested:
            s.fa.set_flow_style()
        return s
    return value


def _restyled(old: Any, new: Any) -> Any:
    """``new`` written as ``old`` was: the same quoting for a string, and a mapping updated in
    place (its other keys' styles and comments kept)."""
    if isinstance(old, ScalarString) and isinstance(new, str):
        return type(old)(new)
    if isinstance(old, CommentedMap) and isinstance(new, CommentedMap):
        for k in [k for k in old if k not in new]:
            del old[k]
        for k, v in new.items():
            old[k] = _restyled(old.get(k), v)
        return old
    return new


def _is_flow(node: Any) -> bool:
    return bool(getattr(node, "fa", None) is not None and node.fa.flow_style())


def _apply(index: dict[tuple[int, int], Any], op: Op) -> None:
    node = _node(index, op.at)
    for key in op.path[:-1]:
        child = node.get(key) if isinstance(node, CommentedMap) else node[key]
        if child is None:
            child = CommentedMap()
            if _is_flow(node):
                child.fa.set_flow_style()
            node[key] = child
        node = child
    last = op.path[-1]
    if op.action == "set":
        old = node.get(last) if isinstance(node, CommentedMap) else None
        node[last] = _restyled(old, _plain(op.value, _is_flow(node)))
    elif op.action == "insert":
        seq = node
        if not isinstance(seq, CommentedSeq):
            raise FixError(f"{op.at}: {last!r} is not a list")
        seq.insert(int(last), _plain(op.value, True))
    else:
        del node[last]


#: ruamel's rendering of a text unedited (the baseline of :func:`_splice`), by text: a search
#: applies many candidates to the same text. Bounded.
_BASELINE: dict[str, str] = {}
_BASELINE_MAX = 8


def _baseline(text: str) -> str:
    found = _BASELINE.get(text)
    if found is None:
        y = _yaml()
        _detect_indent(text, y)
        out = io.StringIO()
        y.dump(y.load(text), out)
        if len(_BASELINE) >= _BASELINE_MAX:
            _BASELINE.pop(next(iter(_BASELINE)))
        found = _BASELINE[text] = out.getvalue()
    return found


def apply_edits(text: str, file: str, edits: list[Edit]) -> tuple[str, list[tuple[str, ...]]]:
    """The text with every edit applied, and for each edit the places it changes (more than
    one when it edits inside an anchored mapping). Raises FixError when an edit's declaration
    is in another file (an include) or nowhere."""
    y = _yaml()
    _detect_indent(text, y)
    doc = y.load(text)  # parsed afresh: a deep copy of a parsed document loses comments
    index, paths = _index(doc)
    shared: list[tuple[str, ...]] = []
    for e in edits:
        places: list[str] = []
        for op in e.ops:
            if op.at.file != file:
                raise FixError(f"{op.at}: the edit is in an included file; netseg fix edits {file}")
            node = _node(index, op.at)
            where = paths.get(id(node), [])
            if len(where) > 1:
                places += where
            _apply(index, op)
        shared.append(tuple(dict.fromkeys(places)))
    out = io.StringIO()
    y.dump(doc, out)
    return _splice(text, _baseline(text), out.getvalue()), shared


def _splice(original: str, baseline: str, edited: str) -> str:
    """The original text with only the edits' lines changed.

    ruamel.yaml keeps comments and order but may re-render lines no edit touches (a comment
    after an anchor, a one-key map in a flow list). ``baseline`` is the unedited document as
    ruamel renders it and ``edited`` the edited one: the changes from one to the other are
    exactly the edits, and they are carried over onto the original's lines. When the result
    does not read as the same data as ``edited``, ``edited`` itself is returned.
    """
    o, b, e = (t.splitlines(keepends=True) for t in (original, baseline, edited))
    to_o: dict[int, int] = {}
    for tag, i1, i2, j1, _ in difflib.SequenceMatcher(None, b, o, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                to_o[i1 + k] = j1 + k
    out: list[str] = []
    pos = 0  # next original line not yet copied
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, b, e, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # the original lines standing for baseline lines [i1, i2)
        start = to_o.get(i1)
        if start is None:
            before = [to_o[k] for k in range(i1 - 1, -1, -1) if k in to_o]
            start = before[0] + 1 if before else 0
        after = [to_o[k] for k in range(i2, len(b)) if k in to_o]
        end = after[0] if after else len(o)
        if i1 == i2:  # pure insertion: before the original of baseline line i1
            end = start
        out += o[pos:start]
        out += e[j1:j2]
        # blank lines closing the replaced original lines separate what follows: kept
        blanks = 0
        while end - blanks > start and not o[end - blanks - 1].strip():
            blanks += 1
        new_blanks = 0
        while j2 - new_blanks > j1 and not e[j2 - new_blanks - 1].strip():
            new_blanks += 1
        if blanks > new_blanks and i1 != i2:
            out += o[end - blanks + new_blanks : end]
        pos = max(pos, end)
    out += o[pos:]
    spliced = "".join(out)
    if not spliced.endswith("\n") and original.endswith("\n"):
        spliced += "\n"
    try:
        same = yaml.load(spliced, _SAFE) == yaml.load(edited, _SAFE)
    except yaml.YAMLError:
        same = False
    return spliced if same else edited


def apply_in_order(text: str, file: str, edits: list[Edit]) -> tuple[str, list[tuple[str, ...]]]:
    """Each edit applied to the text its predecessors left (an edit's locations are those of
    the text it was proposed for)."""
    shared: list[tuple[str, ...]] = []
    for e in edits:
        text, places = apply_edits(text, file, [e])
        shared += places
    return text, shared


# --- analysis of a text --------------------------------------------------------------------


def _load_text(text: str, file: str) -> Topology:
    base = Path(file).parent
    return _format.read(TextReader(text, file, False, base), checks=DOCUMENT_CHECKS)


def _analyse_text(text: str, file: str, tried: dict[str, Analysis]) -> Analysis:
    """The analysis of a text, once per search (``tried``, by text): pruning and attribution
    revisit the search's own steps. The proof never reads it."""
    found = tried.get(text)
    if found is None:
        found = tried[text] = analyse(_load_text(text, file))
    return found


def intended_flows(reach: Reachability) -> list[Flow]:
    """Every pair of attachments (routers excluded) reachable on services the policy allows."""
    sides = [a for a in reach.attachments if a.kind != "router"]
    out: list[Flow] = []
    for sm, dm, v in reach.class_verdicts(sides, sides):
        if not v.permitted:
            continue
        for s in sm:
            for d in dm:
                if s is not d:
                    out.append(Flow(s.ref, d.ref, v.permitted))
    out.sort(key=lambda f: (f.source, f.destination))
    return out


def lost_flows(flows: list[Flow], after: Reachability) -> list[Flow]:
    """The intended flows ``after`` no longer carries on all their services (checked once per
    pair of classes of the new design)."""
    lost: list[Flow] = []
    memo: dict[tuple[object, object], ServiceSet] = {}
    for f in flows:
        try:
            key = (after.class_key(f.source), after.class_key(f.destination))
        except (KeyError, LookupError):
            lost.append(f)
            continue
        got = memo.get(key)
        if got is None:
            got = memo[key] = after.services(f.source, f.destination)
        if not got >= f.services:
            lost.append(Flow(f.source, f.destination, f.services - got))
    return lost


# --- the search -----------------------------------------------------------------------------


@dataclass
class _State:
    edits: list[Edit] = field(default_factory=list)
    text: str = ""
    analysis: Analysis | None = None


def fix(
    path: str | Path, threshold: Severity | str = Severity.HIGH, *, max_rounds: int = 50
) -> FixResult:
    """Plan, apply and prove the edits for the topology file at ``path`` (never modified)."""
    file = str(path)
    if file.endswith(".json"):
        raise FixError(f"{file}: netseg fix edits YAML topologies; convert it with netseg import")
    try:
        original = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise FixError(f"{file}: {exc.strerror or exc}") from None
    level = Severity(threshold)
    topo = _load_text(original, file)
    before = analyse(topo)
    flows = intended_flows(before.reachability)
    original_keys = {k for f in before.findings for k in f.identities}
    tried: dict[str, Analysis] = {original: before}

    state = _State([], original, before)
    refused: dict[tuple[str, str, str], Refused] = {}
    for _ in range(max_rounds):
        assert state.analysis is not None
        open_ = failing(state.analysis.findings, level)
        if not open_:
            break
        ctx = Context(state.analysis.topology, state.analysis.reachability)
        best: tuple[tuple[int, int, int], Edit, str, Analysis] | None = None
        seen: set[tuple[str, str, str]] = {e.key for e in state.edits}
        order = 0
        for finding in open_:
            for cand in candidates(ctx, finding):
                if cand.key in seen:
                    continue
                seen.add(cand.key)
                order += 1
                try:
                    text, _ = apply_edits(state.text, file, [cand])
                    result = _analyse_text(text, file, tried)
                except NetsegError:
                    continue
                new = [f for f in result.findings if original_keys.isdisjoint(f.identities)]
                lost = lost_flows(flows, result.reachability)
                if new or lost:
                    refused[cand.key] = Refused(cand, tuple(lost), tuple(new))
                    continue
                closed = len(open_) - len(failing(result.findings, level))
                if closed <= 0:
                    continue
                score = (closed, -cand.cost, -order)
                if best is None or score > best[0]:
                    best = (score, cand, text, result)
        if best is None:
            break
        _, cand, text, result = best
        state = _State([*state.edits, cand], text, result)
        refused.pop(cand.key, None)

    edits = _prune(original, file, state.edits, level, flows, original_keys, tried)
    patched, shared = apply_in_order(original, file, edits)
    after = analyse(_load_text(patched, file))
    proof = diff(topo, after.topology)
    lost = lost_flows(flows, after.reachability)
    applied = _attribute(original, file, edits, shared, before, level, tried)
    still = {k for f in after.failing(level) for k in f.identities}
    return FixResult(
        file,
        level,
        original,
        patched,
        before,
        after,
        tuple(applied),
        proof,
        tuple(flows),
        tuple(lost),
        tuple(
            r
            for r in refused.values()
            if any(not still.isdisjoint(f.identities) for f in _targets(r, before))
        ),
    )


def _targets(r: Refused, before: Analysis) -> Iterator[Finding]:
    for f in before.findings:
        if f.rule == r.edit.rule:
            yield f


def _closes(
    text: str, file: str, edits: list[Edit], level: Severity, tried: dict[str, Analysis]
) -> set[tuple[str, ...]]:
    """Every identity of the failing findings once ``edits`` are applied (a finding whose
    class changed, e.g. its segments, is the same finding by rule, subject and object)."""
    patched, _ = apply_in_order(text, file, edits)
    return {k for f in _analyse_text(patched, file, tried).failing(level) for k in f.identities}


def _prune(
    original: str,
    file: str,
    edits: list[Edit],
    level: Severity,
    flows: list[Flow],
    original_keys: set[tuple[str, ...]],
    tried: dict[str, Analysis],
) -> list[Edit]:
    """Drop each edit (latest first) whose removal leaves no more failing findings, opens
    nothing new and loses no flow: the greedy order can make an early edit redundant."""
    if len(edits) < 2:
        return edits
    target = _closes(original, file, edits, level, tried)
    kept = list(edits)
    for e in reversed(edits):
        trial = [x for x in kept if x is not e]
        try:
            patched, _ = apply_in_order(original, file, trial)
            result = _analyse_text(patched, file, tried)
        except NetsegError:  # a later edit's place depends on this one
            continue
        if (
            all(not target.isdisjoint(f.identities) for f in result.failing(level))
            and not [f for f in result.findings if original_keys.isdisjoint(f.identities)]
            and not lost_flows(flows, result.reachability)
        ):
            kept = trial
    return kept


def _attribute(
    original: str,
    file: str,
    edits: list[Edit],
    shared: list[tuple[str, ...]],
    before: Analysis,
    level: Severity,
    tried: dict[str, Analysis],
) -> list[AppliedEdit]:
    """Which findings each edit closes: the failing ones that go away when it is applied to
    the original alone."""
    out: list[AppliedEdit] = []
    previous = {f.key: f for f in before.failing(level)}
    for k, e in enumerate(edits):
        now = _closes(original, file, edits[: k + 1], level, tried)
        closes = tuple(f for f in previous.values() if now.isdisjoint(f.identities))
        previous = {key: f for key, f in previous.items() if not now.isdisjoint(f.identities)}
        out.append(AppliedEdit(e, closes, shared[k] if k < len(shared) else ()))
    return out
