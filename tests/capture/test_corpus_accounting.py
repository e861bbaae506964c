"""Every corpus file reads without an unhandled exception, and frame totals equal Wireshark's.

Wireshark's counts come from one ``capinfos -c`` run over the whole corpus (capinfos uses the
same wiretap readers as tshark; its counts equal ``tshark -r F -T fields -e frame.number | wc -l``
on every file of this corpus, checked when this test was written), cached for the session.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from netseg.capture import tabulate_file
from tests.conftest import CORPUS

# every test here on both capture paths: the compiled kernel and numpy (conftest.kernel)
pytestmark = pytest.mark.usefixtures("kernel")


def _files() -> list[Path]:
    roots = [CORPUS / "pcaps", CORPUS / "robustness"]
    return [
        f
        for r in roots
        if r.is_dir()
        for f in sorted(r.rglob("*"))
        if f.is_file() and f.suffix != ".md"
    ]


@cache
def wireshark_counts() -> dict[str, int]:
    files = _files()
    res = subprocess.run(
        ["capinfos", "-c", "-M", "-T", "-r", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    counts = {}
    for line in res.stdout.splitlines():
        name, _, n = line.rpartition("\t")
        if name and n.isdigit():
            counts[name] = int(n)
    return counts


@pytest.mark.slow
def test_corpus_files_balance_and_match_wireshark() -> None:
    files = _files()
    if not files:
        pytest.skip("the shared corpus is not present")
    counts = wireshark_counts() if shutil.which("capinfos") else {}
    mismatches, compared = [], 0
    for f in files:
        account = tabulate_file(f).files[0]
        assert account.balanced, account
        if str(f) in counts:
            compared += 1
            if counts[str(f)] != account.frames:
                mismatches.append(f"{f.name}: netseg {account.frames}, Wireshark {counts[str(f)]}")
        if account.error is None:
            assert account.format in ("pcap", "pcapng")
    assert mismatches == []
    if counts:
        assert compared > 800
