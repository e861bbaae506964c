"""``netseg report --capture FILE… --at POINT``: the replay a reviewer reads beside the design,
the same conversations, findings and frame numbers as ``netseg replay``; bad captures and
capture points exit 2 without a traceback."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from netseg.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGY = str(ROOT / "topologies" / "esxi-cluster.yaml")
INCIDENT = str(ROOT / "captures" / "esxi-incident.pcap")
POINT = "tor1:Eth1/11"


class Rows(HTMLParser):
    """The text of each row of each table, by table id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[str]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(" ".join(self._row))
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and data.strip():
            self._row.append(data.strip())


def tables(page: str) -> dict[str, list[str]]:
    parser = Rows()
    parser.feed(page)
    return {k: rows[1:] for k, rows in parser.tables.items()}  # without the header row


def replay_json(tmp_path: Path) -> dict[str, object]:
    out = tmp_path / "replay.json"
    main(["replay", TOPOLOGY, INCIDENT, "--at", POINT, "--format", "json", "-o", str(out)])
    loaded: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return loaded


def test_report_with_capture_shows_what_replay_finds(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", TOPOLOGY, "-o", str(out), "--capture", INCIDENT, "--at", POINT]) == 0
    page = out.read_text(encoding="utf-8")
    rows = tables(page)
    expected = replay_json(tmp_path)

    assert f"Captured at <code>{POINT}</code>" in page
    [file_row, total_row] = rows["capture-files"]
    assert file_row.split()[:3] == [INCIDENT, "31", "30"]  # frames, decoded
    assert "13 conversations" in total_row

    findings = expected["findings"]
    assert isinstance(findings, list)
    assert len(rows["capture-findings"]) == len(findings) == 13
    assert rows["capture-findings"][0].startswith("critical")  # most severe first
    assert any(
        "observed-address-spoofing" in r and "management:esx01/vmk0" in r
        for r in rows["capture-findings"]
    )

    conversations = expected["conversations"]
    assert isinstance(conversations, list)
    violating = [c for c in conversations if c["verdict"] == "violation"]
    assert len(rows["capture-violations"]) == len(violating) > 0
    for c, row in zip(violating, rows["capture-violations"], strict=True):
        assert c["src"] in row and c["dst"] in row and c["service"] in row
        # the file named once, then the frame numbers to open in Wireshark
        frames = ", ".join(f"#{sample['frame']}" for sample in c["sample_frames"])
        assert f"{INCIDENT} {frames}" in row


def test_report_with_capture_is_deterministic(tmp_path: Path) -> None:
    args = ["--capture", INCIDENT, "--at", POINT]
    assert main(["report", TOPOLOGY, "-o", str(tmp_path / "a.html"), *args]) == 0
    assert main(["report", TOPOLOGY, "-o", str(tmp_path / "b.html"), *args]) == 0
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def test_report_without_capture_has_no_capture_section(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", TOPOLOGY, "-o", str(out)]) == 0
    assert 'id="captures"' not in out.read_text(encoding="utf-8")


def test_unreadable_capture_is_reported_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"this is not a capture at all, just text\n" * 4)
    out = tmp_path / "r.html"
    assert main(["report", TOPOLOGY, "-o", str(out), "--capture", INCIDENT, str(garbage)]) == 2
    err = capsys.readouterr().err
    assert str(garbage) in err and "not a pcap or pcapng capture" in err
    assert "Traceback" not in err
    # the readable capture still made it into the report; the other says why it is missing
    rows = tables(out.read_text(encoding="utf-8"))["capture-files"]
    assert any(r.startswith(INCIDENT) for r in rows)
    assert any(r.startswith(str(garbage)) and "not read:" in r for r in rows)
    assert garbage.read_bytes().startswith(b"this is not a capture")  # left as it was


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--capture", INCIDENT, "--at", "tor9:Eth1/1"], "unknown capture point 'tor9:Eth1/1'"),
        (["--at", POINT], "give --capture"),
        (["--capture", INCIDENT, "--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_bad_capture_options_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "r.html"
    assert main(["report", TOPOLOGY, "-o", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_the_first_screen_shows_the_captures_worst_findings_beside_the_designs(
    tmp_path: Path,
) -> None:
    out = tmp_path / "r.html"
    main(["report", TOPOLOGY, "-o", str(out), "--capture", INCIDENT, "--at", POINT])
    page = out.read_text(encoding="utf-8")
    summary = page.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert "<h3>Design</h3>" in summary and "<h3>Captures</h3>" in summary
    worst = tables(page)["worst"]
    assert worst[0].startswith("critical capture observed-")  # an observed critical leads
    assert any(r.startswith("critical design guest-reaches-management") for r in worst)


def test_untagged_conversations_say_untagged_not_none(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    management = str(ROOT / "captures" / "esxi-management.pcapng")
    main(["report", TOPOLOGY, "-o", str(out), "--capture", management])  # no --at: VLAN unknown
    rows = tables(out.read_text(encoding="utf-8"))["capture-violations"]
    assert rows and all(r.startswith("untagged ") for r in rows)
    assert not any("None" in r for r in rows)


def test_a_report_whose_captures_judged_nothing_says_so_first(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    header = tmp_path / "header.pcap"
    header.write_bytes(Path(INCIDENT).read_bytes()[:24])
    assert main(["report", TOPOLOGY, "-o", str(out), "--capture", str(header)]) == 2
    summary = out.read_text(encoding="utf-8").split('<section id="summary">', 1)[1]
    assert "Nothing was judged in the captures" in summary.split("</section>", 1)[0]


def test_report_lists_how_to_fix(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", TOPOLOGY, "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    rows = tables(page)["fix-edits"]
    assert len(rows) == 3
    assert "forged_transmits: false" in " ".join(rows)
    assert "esxcli network vswitch standard portgroup policy security set" in page
    assert "Left at or above high" in page


def test_report_without_fix_says_so(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", TOPOLOGY, "-o", str(out), "--no-fix"]) == 0
    page = out.read_text(encoding="utf-8")
    assert 'id="fix-edits"' not in page
    assert "Left out (--no-fix)." in page


def test_report_leaves_the_fix_search_to_netseg_fix_on_a_large_estate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import netseg.cli.cmd_report as cmd_report

    monkeypatch.setattr(cmd_report, "FIX_GUEST_LIMIT", 2)
    out = tmp_path / "r.html"
    assert main(["report", TOPOLOGY, "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert 'id="fix-edits"' not in page
    assert "(the report searches for fixes up to 2); run `netseg fix" in page
