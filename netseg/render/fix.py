"""``netseg fix`` results as text for people and JSON for programs (docs/fix.md's shape)."""

from __future__ import annotations

import json
from typing import Any

from netseg.fix import AppliedEdit, FixResult, Flow
from netseg.render import OUTPUT_VERSION
from netseg.render.findings_json import finding_to_json
from netseg.rules.finding import Finding
from netseg.rules.remedies import REMEDIES


def _flow_json(f: Flow) -> dict[str, Any]:
    return {"from": f.source, "to": f.destination, "services": f.services.items()}


def _ref(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "severity": f.severity.value, "subject": f.subject, "object": f.object}


def _edit_json(a: AppliedEdit, commands: bool) -> dict[str, Any]:
    e = a.edit
    out: dict[str, Any] = {
        "rule": e.rule,
        "remedy": e.remedy,
        "target": e.target,
        "change": e.change,
        "why": e.why,
        "kind": e.kind,
        "choice": e.choice,
        "location": str(e.ops[0].at) if e.ops else None,
        "shared": list(a.shared),
        "closes": [_ref(f) for f in a.closes],
    }
    if commands:
        out["commands"] = [c.as_json() for c in e.commands]
    return out


def render_fix_json(result: FixResult, *, commands: bool = False) -> str:
    proof = result.proof
    doc = {
        "netseg": OUTPUT_VERSION,
        "topology": {"name": result.before.topology.name, "file": result.file},
        "fail_on": result.threshold.value,
        "edits": [_edit_json(a, commands) for a in result.edits],
        "closed": [finding_to_json(f) for f in proof.fixed_findings],
        "new": [finding_to_json(f) for f in proof.new_findings],
        "residual": [finding_to_json(f) for f in result.residual],
        "kept_flows": [_flow_json(f) for f in result.flows if f not in result.lost],
        "lost_flows": [_flow_json(f) for f in result.lost],
        "refused": [
            {
                "change": r.edit.change,
                "rule": r.edit.rule,
                "target": r.edit.target,
                "would_lose": [_flow_json(f) for f in r.lost],
                "would_open": [_ref(f) for f in r.new],
            }
            for r in result.refused
        ],
        "proof": {
            "verified": result.verified,
            "pairs_removed": [
                {"from": p.source, "to": p.destination, "services": p.services.items()}
                for p in proof.removed
            ],
            "summary": proof.summary(),
        },
        "summary": {
            "findings_before": len(result.before.failing(result.threshold)),
            "findings_after": len(result.residual),
            "edits": len(result.edits),
            "intended_flows": len(result.flows),
            "intended_flows_kept": len(result.flows) - len(result.lost),
        },
    }
    return json.dumps(doc, indent=2) + "\n"


def render_fix_text(result: FixResult, *, commands: bool = False) -> str:
    t = result.threshold.value
    before = len(result.before.failing(result.threshold))
    out = [
        f"{result.before.topology.name}: {before} finding{'s' if before != 1 else ''} at or "
        f"above {t}; {len(result.edits)} edit{'s' if len(result.edits) != 1 else ''}; "
        f"{len(result.residual)} left",
        "",
    ]
    for k, a in enumerate(result.edits, 1):
        e = a.edit
        out.append(f"{k}. {e.change}")
        out.append(f"   why: {e.why}")
        if e.ops:
            out.append(f"   at: {e.ops[0].at}")
        if e.choice:
            out.append(f"   chosen: {e.choice}")
        if a.shared:
            out.append(f"   through an anchor, this changes: {', '.join(a.shared)}")
        for f in a.closes:
            obj = f" -> {f.object}" if f.object else ""
            out.append(f"   closes [{f.severity}] {f.rule}: {f.subject}{obj}")
        if commands:
            for c in e.commands:
                out.append(f"   on {c.where}:")
                out += [f"     {line}" for line in c.text.splitlines()]
        out.append("")
    proof = result.proof
    s = proof.summary()
    out.append(
        f"proof (the fixed topology analysed from scratch): {s['findings_fixed']} findings "
        f"fixed, {s['findings_new']} new; {s['pairs_removed']} guest -> management pairs "
        f"removed, {s['pairs_added']} added; intended flows kept: "
        f"{len(result.flows) - len(result.lost)}/{len(result.flows)}"
    )
    for p in proof.removed:
        out.append(f"  closed: {p.source} -> {p.destination} ({p.services})")
    for f in proof.new_findings:
        out.append(f"  NEW [{f.severity}] {f.rule}: {f.subject}")
    for fl in result.lost:
        out.append(f"  LOST {fl.source} -> {fl.destination} ({fl.services})")
    if result.residual:
        out.append("")
        out.append(f"left at or above {t}:")
        for f in result.residual:
            obj = f" -> {f.object}" if f.object else ""
            out.append(f"  [{f.severity}] {f.rule}: {f.subject}{obj}")
            remedy = REMEDIES.get(f.rule)
            if remedy is not None and remedy.reason:
                out.append(f"    no edit: {remedy.reason}")
            elif remedy is not None:
                out.append(
                    "    no candidate edit closed it without opening a finding or losing an "
                    f"intended flow (remedies: {remedy.summary})"
                )
    if result.refused:
        out.append("")
        out.append("not done, because it would break the design:")
        for r in result.refused:
            out.append(f"  {r.edit.change}")
            for fl in r.lost[:5]:
                out.append(
                    f"    would lose the intended flow {fl.source} -> {fl.destination} ({fl.services})"
                )
            if len(r.lost) > 5:
                out.append(f"    … and {len(r.lost) - 5} more intended flows")
            for f in r.new[:5]:
                out.append(f"    would open [{f.severity}] {f.rule}: {f.subject}")
    return "\n".join(out) + "\n"
