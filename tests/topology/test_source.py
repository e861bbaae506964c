"""The JSON reader's positions: a large document (scanned with numpy) gets the same object
positions as the general scan, strings with braces and quotes included."""

from __future__ import annotations

import json

from netseg.topology import source


def _document(n: int) -> str:
    items = [
        {"name": f"g{i}", "note": "a {brace} and 'quotes'" if i % 7 == 0 else "}{", "x": {}}
        for i in range(n)
    ]
    return json.dumps({"netseg": 1, "guests": items}, indent=1 if n % 2 else None)


def test_large_documents_get_the_positions_of_the_general_scan() -> None:
    for n in (30_000, 30_001):  # one line and many lines, both over 1 MiB
        plain = _document(n)
        assert "\\" not in plain and len(plain) > 1 << 20
        fast = source._structural_braces(plain)
        general = [m.start() for m in source._JSON_TOKENS.finditer(plain) if m.group() in "{}"]
        assert fast == general
        parsed = source.parse(plain, "big.json", json_form=True)
        guest = parsed["guests"][n - 1]
        line, column = guest.mark
        offset = sum(len(x) + 1 for x in plain.split("\n")[: line - 1]) + column - 1
        assert offset == plain.rfind("{", 0, plain.index(f'"name": "g{n - 1}"'))
