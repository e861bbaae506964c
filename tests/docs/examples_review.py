"""Reading the expected reviews of topologies/README.md: one table per example."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

Row = tuple[str, str, str, str | None, bool]  # severity, rule, subject, object, waived


def sections(text: str) -> dict[str, str]:
    """The text of each '### NAME.yaml' section, by the example's stem."""
    out: dict[str, str] = {}
    parts = re.split(r"^### (\S+)\.yaml.*$", text, flags=re.M)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        out[name] = body.split("\n## ", 1)[0]
    return out


def table_rows(section: str) -> Counter[Row]:
    rows: Counter[Row] = Counter()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or cells[0] in ("sev", "---") or not line.startswith("|"):
            continue
        sev = cells[0].split()[0]
        obj = None if cells[3] in ("—", "-", "") else cells[3]
        rows[(sev, cells[1], cells[2], obj, "(waived)" in cells[0])] += 1
    return rows


def differences(text: str) -> set[tuple[str, str, str]]:
    """(example, rule, subject) of the bullets of 'Where netseg differs from this review'."""
    part = text.split("## Where netseg differs from this review", 1)[1]
    found = re.findall(r"^- \*\*([\w-]+): `([\w-]+)` on `([^`]+)`\.\*\*", part, flags=re.M)
    return set(found)


def findings_rows(path: Path) -> Counter[Row]:
    import netseg
    from netseg.analysis import analyse

    analysis = analyse(netseg.load(path))
    return Counter(
        (f.severity.value, f.rule, f.subject, f.object, f.waived) for f in analysis.findings
    )
