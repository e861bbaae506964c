"""Findings as JUnit XML, for CI test reports (GitLab ``artifacts:reports:junit``, Jenkins).

One test case per (rule, subject): ``classname`` is ``netseg.RULE``, ``name`` the subject's
entity reference. A case fails when one of its findings is unwaived and at or above
``--fail-on``; a waived case is skipped with the waiver's reason; a case below the threshold
passes, its findings in ``system-out`` so nothing is hidden. Each rule that was checked and
found nothing is one passing case named ``no findings``, so a report shows what was checked.

The document is written case by case (:func:`iter_junit`), in chunks of about a megabyte, with
the bytes ``xml.etree.ElementTree`` gives after ``ET.indent`` (the same escapes, two spaces per
level, ``<x />`` for an empty element): only the counts of the suite are worked out first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from netseg.model.topology import Severity, Topology
from netseg.render.findings_json import chunked
from netseg.rules.finding import Finding


def _describe(f: Finding) -> str:
    lines = [f"[{f.severity}] {f.message}", f"at {f.location}"]
    if f.object:
        lines.append(f"object: {f.object}")
    if f.references:
        lines.append(f"references: {'; '.join(f.references)}")
    for key, value in f.evidence.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


def _text(text: str) -> str:
    """Character data as ElementTree escapes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ATTRIBUTE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#09;",
    }
)


def _element(tag: str, attributes: Sequence[tuple[str, str]], close: bool = False) -> str:
    """A start tag as ElementTree writes it (``close``: an empty element, ``<tag ... />``)."""
    attrs = "".join(f' {k}="{v.translate(_ATTRIBUTE)}"' for k, v in attributes)
    return f"<{tag}{attrs}{' />' if close else '>'}"


def _verdict(group: Sequence[Finding], fail_on: Severity) -> tuple[str, Finding | None]:
    """A case's outcome: ``failure`` (with its worst failing finding), ``skipped`` (every
    finding waived) or ``passed``."""
    active = [f for f in group if not f.waived]
    failing = [f for f in active if f.severity.rank >= fail_on.rank]
    if failing:
        return "failure", min(failing, key=lambda f: -f.severity.rank)
    return ("skipped" if not active else "passed"), None


def iter_junit(
    topology: Topology,
    findings: Sequence[Finding],
    fail_on: Severity = Severity.HIGH,
    checked_rules: Iterable[str] = (),
) -> Iterator[str]:
    """``netseg check --format junit``, in chunks. ``checked_rules`` lists the rules that
    ran, so that each silent one appears as a passing case."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.rule, f.subject), []).append(f)
    reported = {rule for rule, _ in groups}
    silent = [rule for rule in checked_rules if rule not in reported]
    outcomes = [_verdict(group, fail_on)[0] for group in groups.values()]
    counts = [
        ("tests", str(len(groups) + len(silent))),
        ("failures", str(outcomes.count("failure"))),
        ("errors", "0"),
        ("skipped", str(outcomes.count("skipped"))),
        ("time", "0"),
    ]

    def pieces() -> Iterator[str]:
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield _element("testsuites", [("name", "netseg check"), *counts])
        yield "\n  " + _element("testsuite", [("name", f"netseg check {topology.name}"), *counts])
        yield "\n    <properties>\n      "
        yield _element("property", [("name", "topology"), ("value", topology.file)], close=True)
        yield "\n    </properties>"
        for (rule, subject), group in groups.items():
            first = group[0]
            yield "\n    " + _element(
                "testcase",
                [
                    ("classname", f"netseg.{rule}"),
                    ("name", subject),
                    ("file", first.location.file),
                    ("line", str(first.location.line)),
                    ("time", "0"),
                ],
            )
            text = _text("\n\n".join(_describe(f) for f in group))
            outcome, worst = _verdict(group, fail_on)
            if worst is not None:
                failure = [("message", worst.message), ("type", worst.severity.value)]
                yield "\n      " + _element("failure", failure) + text + "</failure>"
            else:
                if outcome == "skipped":
                    why = [("message", f"waived: {first.waiver_why}")]
                    yield "\n      " + _element("skipped", why, close=True)
                yield "\n      <system-out>" + text + "</system-out>"
            yield "\n    </testcase>"
        for rule in silent:
            case = [("classname", f"netseg.{rule}"), ("name", "no findings"), ("time", "0")]
            yield "\n    " + _element("testcase", case, close=True)
        yield "\n  </testsuite>\n</testsuites>\n"

    return chunked(pieces())


def render_junit(
    topology: Topology,
    findings: Sequence[Finding],
    fail_on: Severity = Severity.HIGH,
    checked_rules: Iterable[str] = (),
) -> str:
    """The whole document of :func:`iter_junit` as one string."""
    return "".join(iter_junit(topology, findings, fail_on, checked_rules))


__all__ = ["iter_junit", "render_junit"]
