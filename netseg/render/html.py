"""The HTML review report: one self-contained file (inline CSS, SVG and script; no URL of any
kind), readable at 1280 px and printable.

Sections: summary by severity, the findings table (filter by severity, rule and waived),
the zone-to-zone matrix, the diagram and, when a capture replay is given, its accounting and
violating conversations with frame numbers.

Everything from the topology (names, messages, evidence) is user input and is escaped with
:func:`html.escape`; the script reads only ``data-`` attributes, never builds markup from data.

The page carries a self-test hook for browser tests: opened with ``#selftest`` it applies a
severity filter and a rule filter and writes the visible row counts as JSON into
``<pre id="selftest">``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from netseg.analysis import Analysis, ZoneCell
from netseg.fix import FixResult
from netseg.model.topology import Severity, Topology
from netseg.rules.catalogue import CATALOGUE
from netseg.rules.engine import severity_counts
from netseg.rules.finding import Finding

SEVERITY_COLOURS = {
    "critical": "#7b1010",
    "high": "#c62828",
    "medium": "#e07b00",
    "low": "#1f6fb4",
    "info": "#666666",
}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


# --- zone-to-zone matrix -------------------------------------------------------------------


# --- sections --------------------------------------------------------------------------------


def _cards(counts: Mapping[str, int]) -> str:
    return "".join(
        f'<div class="card sev-{sev}"><span class="n">{n}</span><span class="l">{sev}</span></div>'
        for sev, n in counts.items()
    )


def _summary(findings: Sequence[Finding], replay: Mapping[str, Any] | None = None) -> str:
    """The first screen: the design's counts and, with captures, the captures' counts and the
    worst findings of both side by side, so an observed critical is never below the fold."""
    counts = severity_counts(findings)
    waived = sum(1 for f in findings if f.waived)
    note = f'<p class="muted">{waived} waived finding{"s" if waived != 1 else ""} (accepted risks, not counted above).</p>'
    if replay is None:
        return f'<section id="summary"><h2>Summary</h2><div class="cards">{_cards(counts)}</div>{note}</section>'
    observed = [f for f in replay.get("findings", []) if not f.get("waived")]
    seen = {s.value: 0 for s in Severity}
    for f in observed:
        if str(f.get("severity")) in seen:
            seen[str(f.get("severity"))] += 1
    rank = {s.value: s.rank for s in Severity}
    worst: list[tuple[int, str, str, str, str]] = [
        (rank[f.severity.value], "design", f.rule, f.subject, f.message)
        for f in findings
        if not f.waived
    ]
    worst += [
        (rank.get(str(f.get("severity")), 0), "capture", str(f.get("rule", "")),
         str(f.get("subject", "")), str(f.get("message", "")))
        for f in observed
    ]  # fmt: skip
    worst.sort(key=lambda w: (-w[0], w[1] != "capture"))  # captures first within a severity
    sev_of = {s.rank: s.value for s in Severity}
    rows = (
        "".join(
            f'<tr><td><span class="sev sev-{sev_of[r]}">{sev_of[r]}</span></td><td>{kind}</td>'
            f"<td><code>{esc(rule)}</code></td><td><code>{esc(subject)}</code></td><td>{esc(msg)}</td></tr>"
            for r, kind, rule, subject, msg in worst[:_WORST]
        )
        or '<tr><td colspan="5">No findings in the design or the captures.</td></tr>'
    )
    nothing = replay.get("nothing_judged")
    banner = (
        f'<p class="sev-critical"><strong>Nothing was judged in the captures: {esc(nothing)}.'
        "</strong> No traffic was checked.</p>"
        if nothing
        else ""
    )
    return (
        '<section id="summary"><h2>Summary</h2>'
        f'{banner}<div class="summary-pair"><div><h3>Design</h3><div class="cards">{_cards(counts)}</div>{note}</div>'
        f'<div><h3>Captures</h3><div class="cards">{_cards(seen)}</div>'
        f'<p class="muted"><a href="#captures">the captures\' findings and conversations</a></p></div></div>'
        '<h3>Worst first</h3><table id="worst"><thead><tr><th>severity</th><th>from</th><th>rule</th>'
        f"<th>subject</th><th>message</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


_WORST = 8  # findings on the first screen


def _findings(findings: Sequence[Finding]) -> str:
    rules = sorted({f.rule for f in findings})
    sev_boxes = "".join(
        f'<label><input type="checkbox" class="f-sev" value="{s.value}" checked> {s.value}</label>'
        for s in Severity
    )
    options = '<option value="">every rule</option>' + "".join(
        f'<option value="{esc(r)}">{esc(r)}</option>' for r in rules
    )
    rows = []
    for f in findings:
        title = CATALOGUE[f.rule].title if f.rule in CATALOGUE else ""
        obj = esc(f.object) if f.object else ""
        services = f.evidence.get("services")
        detail = ""
        if isinstance(services, list) and services:
            detail = f'<div class="svc">services: {esc(", ".join(map(str, services)))}</div>'
        waived = (
            f'<span class="waived" title="{esc(f.waiver_why)}">waived</span>' if f.waived else ""
        )
        loc = f.location
        where = f"{loc.file}:{loc.line}" if loc.line else loc.file
        rows.append(
            f'<tr data-severity="{f.severity.value}" data-rule="{esc(f.rule)}" '
            f'data-waived="{"1" if f.waived else "0"}">'
            f'<td><span class="sev sev-{f.severity.value}">{f.severity.value}</span>{waived}</td>'
            f'<td><code>{esc(f.rule)}</code><div class="muted">{esc(title)}</div></td>'
            f"<td><code>{esc(f.subject)}</code></td><td><code>{obj}</code></td>"
            f"<td>{esc(f.message)}{detail}</td><td><code>{esc(where)}</code></td></tr>"
        )
    body = "".join(rows) or '<tr class="none"><td colspan="6">No design findings.</td></tr>'
    return (
        '<section id="findings"><h2>Findings</h2>'
        f'<form class="filters" onsubmit="return false"><fieldset><legend>severity</legend>{sev_boxes}</fieldset>'
        f'<label>rule <select id="f-rule">{options}</select></label>'
        '<label><input type="checkbox" id="f-waived" checked> show waived</label>'
        f'<span id="f-count" aria-live="polite">{len(findings)} of {len(findings)} shown</span></form>'
        '<table id="findings-table"><thead><tr><th>severity</th><th>rule</th><th>subject</th>'
        f"<th>object</th><th>message</th><th>where</th></tr></thead><tbody>{body}</tbody></table>"
        "</section>"
    )


_STATE_TEXT = {
    "violating": "violating",
    "intended": "intended",
    "intended-unreachable": "intended, not reachable",
    "unreachable": "unreachable",
}


def _matrix(zones: list[str], cells: list[ZoneCell]) -> str:
    if not zones:
        return '<section id="matrix"><h2>Zone to zone</h2><p>No zones.</p></section>'
    by = {(c.source, c.destination): c for c in cells}
    head = "".join(f'<th scope="col">{esc(z)}</th>' for z in zones)
    rows = []
    for s in zones:
        tds = []
        for d in zones:
            c = by[(s, d)]
            state = c.state
            detail = ""
            if state == "violating":
                detail = f"<small>{esc(c.violating)}</small>"
            elif state == "intended" and not c.reachable.is_any():
                detail = f"<small>{esc(c.reachable)}</small>"
            tip = (
                f"{s} → {d}: intended {c.intended}; reachable {c.reachable}; "
                f"violating {c.violating}"
            )
            tds.append(
                f'<td class="cell {state}" data-state="{state}" title="{esc(tip)}">'
                f"{_STATE_TEXT[state]}{detail}</td>"
            )
        rows.append(f'<tr><th scope="row">{esc(s)}</th>{"".join(tds)}</tr>')
    legend = (
        '<p class="legend"><span class="cell violating">violating</span> reachable beyond '
        'the policy <span class="cell intended">intended</span> reachable, and only as the '
        'policy allows <span class="cell intended-unreachable">intended, not reachable</span> '
        'allowed, but nothing gets through <span class="cell unreachable">unreachable</span> '
        "neither allowed nor reachable. Rows send, columns receive; intent counts zone rules "
        "only (rules naming prefixes cover part of a zone). Hover a cell for the services.</p>"
    )
    return (
        '<section id="matrix"><h2>Zone to zone</h2><div class="scroll"><table id="zone-matrix">'
        f"<thead><tr><th>from \\ to</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f"</table></div>{legend}</section>"
    )


def _diagram(svg: str | None) -> str:
    if svg is None:
        inner = (
            '<p class="muted">No diagram: Graphviz\'s <code>dot</code> program was not '
            "available when this report was made (install Graphviz and run again).</p>"
        )
    else:
        inner = (
            '<label class="noprint"><input type="checkbox" id="d-full"> actual size</label>'
            f'<div class="diagram" id="diagram">{svg}</div>'
        )
    return f'<section id="diagram-section"><h2>Diagram</h2>{inner}</section>'


def _sum(value: object) -> int:
    if isinstance(value, Mapping):
        return sum(int(v) for v in value.values())
    return int(value) if isinstance(value, int | float) else 0


def _captures(replay: Mapping[str, Any]) -> str:
    """The replay in the shape of ``netseg replay --format json`` (docs/cli.md)."""
    files = []
    for f in replay.get("files", []):
        und = f.get("undecodable", {})
        uns = f.get("unsupported", {})
        why = (
            "; ".join(f"{k}: {v}" for k, v in sorted({**dict(und), **dict(uns)}.items()))
            if isinstance(und, Mapping) and isinstance(uns, Mapping)
            else ""
        )
        if f.get("error"):
            why = f"not read: {f['error']}"
        elif f.get("cut_short"):
            why = "; ".join(w for w in (why, "last record cut short (not counted)") if w)
        files.append(
            f"<tr><td><code>{esc(f.get('file', ''))}</code></td><td>{esc(f.get('frames', 0))}</td>"
            f"<td>{esc(f.get('decoded', 0))}</td><td>{_sum(und)}</td><td>{_sum(uns)}</td>"
            f"<td>{esc(why)}</td></tr>"
        )
    totals = replay.get("totals", {})
    total_row = (
        f'<tr class="total"><th>total</th><td>{esc(totals.get("frames", 0))}</td>'
        f"<td>{esc(totals.get('decoded', 0))}</td><td>{esc(totals.get('undecodable', 0))}</td>"
        f"<td>{esc(totals.get('unsupported', 0))}</td>"
        f"<td>{esc(totals.get('conversations', 0))} conversations</td></tr>"
    )
    convs = []
    for c in replay.get("conversations", []):
        if c.get("verdict") != "violation":
            continue
        # the file once, then its frame numbers: what Wireshark's "Go to packet" wants
        by_file: dict[str, list[str]] = {}
        for sample in c.get("sample_frames", []):
            by_file.setdefault(str(sample.get("file", "")), []).append(f"#{sample.get('frame')}")
        frames = "; ".join(f"{f} {', '.join(n)}" for f, n in by_file.items())
        count = c.get("frames", [])
        count_text = " / ".join(str(n) for n in count) if isinstance(count, list) else str(count)
        src = c.get("src", "")
        dst = c.get("dst", "")
        convs.append(
            f'<tr><td>{esc(_vlan(c.get("vlan")))}</td><td><code>{esc(src)}</code><div class="muted">'
            f'{esc(c.get("src_addr", ""))}</div></td><td><code>{esc(dst)}</code><div class="muted">'
            f"{esc(c.get('dst_addr', ''))}</div></td><td>{esc(c.get('service', ''))}</td>"
            f"<td>{esc(count_text)}</td><td>{esc(frames)}</td>"
            f"<td>{esc(', '.join(c.get('rules', [])))}</td></tr>"
        )
    conv_body = "".join(convs) or '<tr><td colspan="7">No violating conversation.</td></tr>'
    point = replay.get("capture_point")
    where = (
        f'<p class="muted">Captured at <code>{esc(point)}</code>.</p>'
        if point
        else '<p class="muted">No capture point given: frames are attributed by address only.</p>'
    )
    return (
        f'<section id="captures"><h2>Captures</h2>{where}<h3>Accounting</h3>'
        '<table id="capture-files"><thead><tr><th>file</th><th>frames</th><th>decoded</th>'
        "<th>undecodable</th><th>unsupported</th><th>why</th></tr></thead>"
        f"<tbody>{''.join(files)}{total_row}</tbody></table>"
        f"{_observed(replay.get('findings', []))}"
        "<h3>Violating conversations</h3>"
        '<table id="capture-violations"><thead><tr><th>VLAN</th><th>from</th><th>to</th>'
        "<th>service</th><th>frames (→ / ←)</th><th>frame numbers</th><th>rules</th></tr>"
        f"</thead><tbody>{conv_body}</tbody></table></section>"
    )


def _vlan(vlan: object) -> str:
    return "untagged" if vlan is None else str(vlan)


def _observed(findings: Sequence[Mapping[str, Any]]) -> str:
    """The replay's findings (docs/replay.md), most severe first, as the JSON gives
    them; the frame numbers are in each message, ready for Wireshark's "Go to packet"."""
    order = {s.value: i for i, s in enumerate(Severity)}
    ranked = sorted(findings, key=lambda f: order.get(str(f.get("severity")), len(order)))
    rows = []
    for f in ranked:
        sev = str(f.get("severity", ""))
        waived = '<span class="waived">waived</span>' if f.get("waived") else ""
        rows.append(
            f'<tr><td><span class="sev sev-{esc(sev)}">{esc(sev)}</span>{waived}</td>'
            f"<td><code>{esc(f.get('rule', ''))}</code></td>"
            f"<td><code>{esc(f.get('subject', ''))}</code></td>"
            f"<td><code>{esc(f.get('object') or '')}</code></td>"
            f"<td>{esc(f.get('message', ''))}</td></tr>"
        )
    body = "".join(rows) or '<tr><td colspan="5">No finding in the captures.</td></tr>'
    return (
        "<h3>Observed findings</h3>"
        '<table id="capture-findings"><thead><tr><th>severity</th><th>rule</th><th>subject</th>'
        f"<th>object</th><th>message</th></tr></thead><tbody>{body}</tbody></table>"
    )


CSS = """
:root{--fg:#1d2329;--muted:#5d6770;--line:#d7dce1;--bg:#fff;--head:#f3f5f7}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1240px;margin:0 auto;padding:16px 20px 40px}
header h1{margin:0 0 4px;font-size:24px}
h2{margin:28px 0 10px;font-size:19px;border-bottom:2px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
code{font:12px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.muted{color:var(--muted);font-size:12px}
nav a{margin-right:14px;color:#1f5fa8}
.cards{display:flex;gap:10px;flex-wrap:wrap}
.summary-pair{display:flex;gap:32px;flex-wrap:wrap}
.card{min-width:120px;padding:10px 14px;border-radius:6px;color:#fff;display:flex;flex-direction:column}
.card .n{font-size:28px;font-weight:700}.card .l{text-transform:uppercase;font-size:12px;letter-spacing:.05em}
.sev-critical{background:#7b1010}.sev-high{background:#c62828}.sev-medium{background:#e07b00}.sev-low{background:#1f6fb4}.sev-info{background:#666}
.sev{display:inline-block;color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;font-weight:600}
.waived{display:inline-block;margin-left:4px;border:1px solid var(--muted);color:var(--muted);border-radius:3px;padding:0 4px;font-size:11px}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid var(--line);padding:5px 7px;text-align:left;vertical-align:top}
thead th{background:var(--head);position:sticky;top:0}
#findings-table td:nth-child(1){width:92px}#findings-table td:nth-child(2){width:225px}
#findings-table td:nth-child(3),#findings-table td:nth-child(4){width:170px}
#findings-table td:nth-child(6){width:150px}
#capture-findings td:nth-child(3),#capture-findings td:nth-child(4),#capture-violations td:nth-child(2),#capture-violations td:nth-child(3){min-width:150px}
.svc{color:var(--muted);font-size:12px;margin-top:2px}
.filters{display:flex;flex-wrap:wrap;gap:14px;align-items:center;margin:6px 0 10px}
.filters fieldset{border:1px solid var(--line);border-radius:4px;padding:2px 8px;margin:0}
.filters fieldset label{margin-right:8px}
#f-count{color:var(--muted)}
tr[hidden]{display:none}
.scroll{overflow-x:auto}
#zone-matrix th,#zone-matrix td{text-align:center;min-width:90px}
.cell{font-size:12px}.cell small{display:block;font-size:11px;word-break:break-word}
.cell.violating{background:#f8d0d0;color:#7b1010;font-weight:600}
.cell.intended{background:#d6efd6;color:#1e5a1e}
.cell.intended-unreachable{background:#eef3fb;color:#35507a}
.cell.unreachable{background:#f7f7f7;color:#888}
.legend .cell{display:inline-block;padding:1px 6px;border-radius:3px;margin:0 4px}
.diagram{border:1px solid var(--line);overflow:auto;max-height:1400px;background:#fff}
.diagram svg{max-width:100%;height:auto;display:block}
.diagram.full svg{max-width:none}
#selftest{display:none}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media print{
  body{font-size:10pt}main{max-width:none;padding:0}
  nav,.filters,.noprint{display:none}
  thead th{position:static}
  tr{break-inside:avoid}
  section{break-before:auto}
  #diagram-section{break-before:page}
  .diagram{border:none;max-height:none;overflow:visible}
  .diagram svg{max-width:100%!important}
  .card,.sev,.cell{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

SCRIPT = """
(function(){
  'use strict';
  var table=document.getElementById('findings-table');
  if(!table){return;}
  var rows=Array.prototype.slice.call(table.tBodies[0].querySelectorAll('tr[data-severity]'));
  var sev=Array.prototype.slice.call(document.querySelectorAll('input.f-sev'));
  var rule=document.getElementById('f-rule');
  var waived=document.getElementById('f-waived');
  var count=document.getElementById('f-count');
  function apply(){
    var on={};sev.forEach(function(b){on[b.value]=b.checked;});
    var r=rule.value, w=waived.checked, shown=0;
    rows.forEach(function(tr){
      var ok=on[tr.dataset.severity] && (!r||tr.dataset.rule===r) && (w||tr.dataset.waived!=='1');
      tr.hidden=!ok; if(ok){shown++;}
    });
    count.textContent=shown+' of '+rows.length+' shown';
    return shown;
  }
  sev.forEach(function(b){b.addEventListener('change',apply);});
  rule.addEventListener('change',apply);waived.addEventListener('change',apply);
  var full=document.getElementById('d-full'), d=document.getElementById('diagram');
  if(full&&d){full.addEventListener('change',function(){d.classList.toggle('full',full.checked);});}
  apply();
  if(location.hash==='#selftest'){
    var out={rows:rows.length,all:apply()};
    sev.forEach(function(b){b.checked=(b.value==='critical');});
    out.critical=apply();
    sev.forEach(function(b){b.checked=true;});
    if(rule.options.length>1){rule.value=rule.options[1].value;out.rule=rule.value;out.rule_rows=apply();}
    rule.value='';waived.checked=false;out.unwaived=apply();waived.checked=true;apply();
    out.matrix_cells=document.querySelectorAll('#zone-matrix td.cell').length;
    out.svg=document.querySelectorAll('#diagram svg').length;
    out.capture_findings=document.querySelectorAll('#capture-findings tbody tr').length;
    out.capture_violations=document.querySelectorAll('#capture-violations tbody tr').length;
    out.resources=performance.getEntriesByType('resource').length;
    out.csp_violations=window.netsegBlocked||0;
    var p=document.getElementById('selftest');p.textContent=JSON.stringify(out);p.dataset.done='1';
  }
})();
"""


def _how_to_fix(fixes: FixResult | None, note: str) -> str:
    """The edits ``netseg fix`` found, the findings each closes, its commands; what is left."""
    head = '<section id="fix"><h2>How to fix</h2>'
    if fixes is None:
        return f"{head}<p>{esc(note)}</p></section>"
    t = fixes.threshold.value
    if not fixes.edits:
        left = len(fixes.residual)
        text = (
            f"Nothing at or above {t} to fix."
            if not left
            else f"No edit closes the {left} finding{'s' if left != 1 else ''} at or above {t} "
            "without opening another or losing an intended flow."
        )
        return f"{head}<p>{esc(text)}</p>{_fix_left(fixes)}</section>"
    rows = []
    for k, a in enumerate(fixes.edits, 1):
        e = a.edit
        closes = "<br>".join(
            f'<span class="sev-{esc(f.severity.value)}">{esc(f.severity.value)}</span> '
            f"<code>{esc(f.rule)}</code> {esc(f.subject)}"
            for f in a.closes
        )
        extra = f'<div class="muted">{esc(e.choice)}</div>' if e.choice else ""
        if a.shared:
            extra += f'<div class="muted">through an anchor: {esc(", ".join(a.shared))}</div>'
        cmds = "".join(
            f"<details><summary>{esc(c.where)}</summary><pre>{esc(c.text)}</pre></details>"
            for c in e.commands
        )
        at = esc(e.ops[0].at) if e.ops else ""
        rows.append(
            f'<tr><td>{k}</td><td>{esc(e.change)}<div class="muted">{esc(e.why)}</div>{extra}'
            f"</td><td><code>{at}</code></td><td>{closes}</td><td>{cmds}</td></tr>"
        )
    s = fixes.proof.summary()
    kept = len(fixes.flows) - len(fixes.lost)
    proof = (
        f"Proof (the fixed topology analysed from scratch): {s['findings_fixed']} findings fixed, "
        f"{s['findings_new']} new; intended flows kept: {kept} of {len(fixes.flows)}. "
        f"<code>netseg fix {esc(fixes.file)} -o FIXED.yaml</code> writes the patched topology."
    )
    return (
        f'{head}<div class="scroll"><table id="fix-edits"><thead><tr><th>#</th><th>edit</th>'
        "<th>where</th><th>closes</th><th>commands</th></tr></thead><tbody>"
        + "".join(rows)
        + f"</tbody></table></div><p>{proof}</p>{_fix_left(fixes)}</section>"
    )


def _fix_left(fixes: FixResult) -> str:
    out = ""
    if fixes.residual:
        items = "".join(
            f"<li><code>{esc(f.rule)}</code> {esc(f.subject)}"
            + (f" → {esc(f.object)}" if f.object else "")
            + "</li>"
            for f in fixes.residual
        )
        out += f"<h3>Left at or above {esc(fixes.threshold.value)}</h3><ul>{items}</ul>"
    if fixes.refused:
        items = "".join(
            f"<li>{esc(r.edit.change)}: would lose "
            + esc(", ".join(f"{fl.source} → {fl.destination} ({fl.services})" for fl in r.lost[:3]))
            + (f" and {len(r.lost) - 3} more" if len(r.lost) > 3 else "")
            + (f"; would open {len(r.new)} finding(s)" if r.new else "")
            + "</li>"
            for r in fixes.refused
        )
        out += f"<h3>Not done, because it would break the design</h3><ul>{items}</ul>"
    return out


def render_report(
    topology: Topology,
    analysis: Analysis,
    svg: str | None,
    replay: Mapping[str, Any] | None = None,
    *,
    version: str = "",
    fixes: FixResult | None = None,
    fix_note: str = "",
) -> str:
    """The report as one HTML document.

    ``analysis`` is :func:`netseg.analysis.analyse`'s result; ``svg`` is the inline
    diagram (:func:`netseg.render.diagram.svg_for_html`) or None when Graphviz is unavailable;
    ``replay`` is a capture replay in the JSON shape of ``netseg replay`` (files, totals,
    conversations), or None for a design-only report. ``fixes`` is :func:`netseg.fix.fix`'s
    result for the "How to fix" section (``fix_note`` says why there is none).
    """
    findings = analysis.findings
    zones, cells = analysis.zone_matrix
    title = f"netseg report: {topology.name}"
    nav = [
        ("summary", "Summary"),
        ("findings", "Findings"),
        ("matrix", "Zone to zone"),
        ("fix", "How to fix"),
        ("diagram-section", "Diagram"),
    ]
    if replay is not None:
        nav.append(("captures", "Captures"))
    counts = (
        f"{len(topology.hosts)} hosts, {len(topology.guests)} guests, "
        f"{len(topology.switches)} switches, {len(topology.routers)} routers, "
        f"{len(topology.endpoints)} endpoints"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing may be fetched: no network access is needed to view the report.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{esc(title)}</title><style>{CSS}</style>",
        # counts fetches the policy above refused (the browser test expects none)
        "<script>window.netsegBlocked=0;document.addEventListener('securitypolicyviolation',"
        "function(){window.netsegBlocked++;});</script></head><body><main>",
        f"<header><h1>{esc(title)}</h1>",
        f'<div class="muted"><code>{esc(topology.file)}</code> · {esc(counts)}'
        + (f" · netseg {esc(version)}" if version else "")
        + "</div>",
        f"<p>{esc(topology.description)}</p>" if topology.description else "",
        "<nav>" + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in nav) + "</nav></header>",
        _summary(findings, replay),
        _findings(findings),
        _matrix(zones, cells),
        _how_to_fix(fixes, fix_note),
        _diagram(svg),
        _captures(replay) if replay is not None else "",
        '<pre id="selftest"></pre>',
        "<footer>Generated by netseg from the topology above; the findings catalogue is "
        "<code>netseg rules</code>.</footer>",
        f"</main><script>{SCRIPT}</script></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def report_json_ready(replay: object) -> Mapping[str, Any] | None:
    """A replay result as the mapping :func:`render_report` reads: a mapping as is, or an
    object with ``to_json()``/``as_dict()`` (whichever the capture package offers)."""
    if replay is None or isinstance(replay, Mapping):
        return replay
    for attr in ("to_json", "as_dict", "to_dict"):
        fn = getattr(replay, attr, None)
        if callable(fn):
            value = fn()
            if isinstance(value, str):
                value = json.loads(value)
            if isinstance(value, Mapping):
                return value
    raise TypeError(f"cannot read a replay result of type {type(replay).__name__}")


__all__ = ["render_report", "report_json_ready"]
