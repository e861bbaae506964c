"""Assertions for network tests, in the style of pybatfish's ``asserts``: write the
segmentation you intend as a pytest test and let CI keep it true.

::

    import netseg
    from netseg.assertions import assert_isolated, assert_no_findings

    def test_guests_never_reach_the_hypervisors():
        topology = netseg.load("topologies/prod.yaml")
        assert_isolated(topology, "guests", "management")
        assert_no_findings(topology, severity_at_least="high")

Each helper returns True or raises :class:`AssertionError` whose message shows what was
expected, what was found, and the evidence (file and line, the path hop by hop). With
``soft=True`` it warns (:class:`NetsegAssertWarning`) and returns False instead. The helpers
hide their own frames from pytest's traceback, so a failure points at the test.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from netseg.analysis import Analysis, analyse
from netseg.model.topology import Severity, Topology
from netseg.rules.catalogue import CATALOGUE
from netseg.rules.finding import Finding

#: At most this many findings or pairs are spelled out in a message; the rest are counted.
SHOWN = 20


class NetsegAssertWarning(UserWarning):
    """A soft assertion failed."""


def _fail(text: str, soft: bool) -> bool:
    __tracebackhide__ = True
    if soft:
        warnings.warn(text, NetsegAssertWarning, stacklevel=3)
        return False
    raise AssertionError(text)


def _finding_lines(f: Finding) -> list[str]:
    lines = [f"  {f.location}: [{f.severity}] {f.rule}: {f.message}"]
    path = f.evidence.get("path") if f.evidence else None
    if isinstance(path, list | tuple) and path:
        lines.append(f"    path: {' -> '.join(str(p) for p in path)}")
    return lines


def assert_no_findings(
    topology: Topology | Analysis,
    rule: str | None = None,
    severity_at_least: Severity | str | None = None,
    *,
    soft: bool = False,
) -> bool:
    """Assert that the design has no unwaived finding (of ``rule``, at or above
    ``severity_at_least``, when given). Waived findings are accepted risks and never fail.

    Pass an :class:`~netseg.analysis.Analysis` to reuse one already computed.
    """
    __tracebackhide__ = True
    if rule is not None and rule not in CATALOGUE:
        raise ValueError(f"unknown rule {rule!r}; `netseg rules` lists them")
    threshold = Severity(severity_at_least) if severity_at_least is not None else None
    analysis = topology if isinstance(topology, Analysis) else analyse(topology)
    found = [
        f
        for f in analysis.active
        if (rule is None or f.rule == rule)
        and (threshold is None or f.severity.rank >= threshold.rank)
    ]
    if not found:
        return True
    what = f"rule {rule}" if rule else "any rule"
    level = f" at or above {threshold}" if threshold else ""
    topo = analysis.topology
    lines = [
        f"expected no findings of {what}{level} in {topo.name} ({topo.file}); found {len(found)}:"
    ]
    for f in found[:SHOWN]:
        lines += _finding_lines(f)
    if len(found) > SHOWN:
        lines.append(f"  … and {len(found) - SHOWN} more")
    return _fail("\n".join(lines), soft)


def assert_isolated(
    topology: Topology | Any,
    from_sel: str,
    to_sel: str,
    *,
    soft: bool = False,
) -> bool:
    """Assert that nothing selected by ``from_sel`` can send anything to what ``to_sel``
    selects (selectors as on the command line: an entity reference, ``zone:NAME``,
    ``host:NAME``, ``guests``, ``management``).

    ``topology`` may also be a reachability result (anything with ``pairs(from, to)``) to
    reuse one already computed. Allowed flows count too: isolation means nothing gets through.
    """
    __tracebackhide__ = True
    if isinstance(topology, Topology):
        from netseg.graph import analyse_reachability

        reachability: Any = analyse_reachability(topology)
        name = f"{topology.name} ({topology.file})"
    else:
        reachability = topology
        name = "the topology"
    pairs: Sequence[Any] = reachability.pairs(from_sel, to_sel)
    if not pairs:
        return True
    lines = [
        f"expected {from_sel} isolated from {to_sel} in {name}; "
        f"found {len(pairs)} reachable pair{'s' if len(pairs) != 1 else ''}:"
    ]
    for p in pairs[:SHOWN]:
        lines.append(f"  {p.source} -> {p.destination}: {p.services}")
        path = getattr(p, "path", ())
        if path:
            lines.append(f"    path: {' -> '.join(str(h) for h in path)}")
    if len(pairs) > SHOWN:
        lines.append(f"  … and {len(pairs) - SHOWN} more")
    return _fail("\n".join(lines), soft)


__all__ = ["NetsegAssertWarning", "assert_isolated", "assert_no_findings"]
