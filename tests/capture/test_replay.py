"""netseg replay on the example captures: golden results, every capture rule, evidence, workers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from netseg.capture.judge import (
    Judge,
    JudgedConversation,
    ReplayResult,
    resolve_capture_point,
    service_text,
)
from netseg.capture.parallel import tabulate
from netseg.capture.replay import replay, write_evidence_file
from netseg.cli.main import main
from netseg.errors import SelectorError
from netseg.graph import analyse_reachability
from netseg.render.replay import replay_document
from netseg.topology import load
from tests.conftest import REPO, UPDATE_GOLDEN

# every test here on both capture paths: the compiled kernel and numpy (conftest.kernel)
pytestmark = pytest.mark.usefixtures("kernel")

TOPOLOGY = "topologies/esxi-cluster.yaml"
CASES = {
    "esxi-incident": ("captures/esxi-incident.pcap", "tor1:Eth1/11"),
    "esxi-management": ("captures/esxi-management.pcapng", "esx01/vSwitch0/Management Network"),
    "esxi-mid-session": ("captures/esxi-mid-session.pcap", "tor1:Eth1/11"),
    "esxi-fragments": ("captures/esxi-fragments.pcap", "tor1:Eth1/11"),
    "esxi-priority-tags": (
        "captures/esxi-priority-tags.pcapng",
        "esx01/vSwitch0/Management Network",
    ),
    "esxi-icmp-errors": ("captures/esxi-icmp-errors.pcap", "tor1:Eth1/11"),
    "esxi-live": ("captures/esxi-live.pcapng.gz", "tor1:Eth1/11"),
}


def _replayed(name: str) -> ReplayResult:
    capture, at = CASES[name]
    return replay(load(TOPOLOGY), [capture], at=at)


def _conversation(result: ReplayResult, service: str) -> JudgedConversation:
    (found,) = [c for c in result.conversations if service_text(c.conversation) == service]
    return found


def test_a_capture_starting_mid_session_is_judged_as_the_session_was_opened() -> None:
    result = _replayed("esxi-mid-session")
    c = _conversation(result, "tcp/5432")
    assert (c.source.ref, c.destination.ref) == ("guest:web01/nic0", "guest:db01/nic0")
    assert c.verdict == "allowed" and c.conversation.initiator_by == "port"
    assert result.findings == []


def test_later_fragments_belong_to_their_first_fragments_conversation() -> None:
    result = _replayed("esxi-fragments")
    assert result.findings == []
    pg = _conversation(result, "tcp/5432")
    assert pg.verdict == "allowed" and pg.conversation.frames == 4  # 3 fragments, 1 ack
    dns = _conversation(result, "udp/53")
    assert dns.conversation.frames == 2 and dns.source.ref == "guest:web02/nic0"
    orphans = result.tables.conversations.fragments_without_first()
    assert {i: (n, [r.frame for r in refs]) for i, (n, refs) in orphans.items()} == {0: (2, [7, 8])}
    (alone,) = [c for c in result.conversations if c.conversation.fragments_only]
    assert alone.verdict == "unattributed" and alone.rules == ()


def test_priority_tags_are_no_vlan() -> None:
    def found(name: str) -> set[tuple[str, str, str | None]]:
        return {(f.rule, f.subject, f.object) for f in _replayed(name).findings}

    tagged = found("esxi-priority-tags")
    assert tagged == found("esxi-management")
    assert not any(rule == "observed-wrong-vlan" for rule, _, _ in tagged)


def test_icmp_errors_belong_to_the_probe_they_quote() -> None:
    result = _replayed("esxi-icmp-errors")
    snmp = _conversation(result, "udp/161")
    assert (snmp.source.ref, snmp.destination.ref) == (
        "guest:web01/nic0",
        "management:esx01/vmk0",
    )
    assert snmp.conversation.answered and snmp.conversation.refused
    assert set(snmp.rules) == {"observed-guest-to-management", "observed-model-drift"}
    mysql = _conversation(result, "tcp/3306")
    assert not mysql.conversation.answered and mysql.stopped_by is not None
    assert mysql.stopped_by.ref == "router:core-fw/vlan101"
    assert mysql.rules == ("observed-zone-violation",)
    assert len(result.conversations) == 2  # no management -> guest "icmp" flow
    assert not any(f.subject == "management:esx01/vmk0" for f in result.findings)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_capture_matches_golden(name: str) -> None:
    capture, at = CASES[name]
    doc = replay_document(replay(load(TOPOLOGY), [capture], at=at), all_conversations=True)
    got = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    golden = REPO / "tests" / "data" / "golden" / "replay" / f"{name}.json"
    if UPDATE_GOLDEN or not golden.exists():
        golden.write_text(got)
    assert got == golden.read_text()


def test_every_capture_rule_fires_on_the_incident_capture() -> None:
    result = replay(load(TOPOLOGY), [CASES["esxi-incident"][0]], at="tor1:Eth1/11")
    by_rule = {(f.rule, f.subject) for f in result.findings}
    expected = {
        ("observed-guest-to-management", "guest:web01/nic0"),
        ("observed-zone-violation", "guest:web01/nic0"),
        ("observed-model-drift", "guest:web01/nic0"),
        ("observed-wrong-vlan", "guest:web01/nic0"),
        ("observed-double-tag", "guest:web01/nic0"),
        ("observed-address-spoofing", "guest:web02/nic0"),
        ("observed-rogue-dhcp", "guest:app01/nic0"),
        ("observed-rogue-router-advertisement", "guest:web01/nic0"),
        ("observed-unknown-source", "mac:00:50:56:00:0b:ad"),
        ("observed-bridge-protocol", "guest:app01/nic0"),
        ("observed-bridge-protocol", "guest:proxy01/nic0"),
    }
    assert expected <= by_rule
    arp = [
        f
        for f in result.findings
        if f.rule == "observed-address-spoofing" and f.object == "management:esx01/vmk0"
    ]
    assert arp and arp[0].severity.value == "critical"
    # allowed traffic stays allowed and nobody else is blamed
    allowed = {
        (c.source.ref, c.destination.ref) for c in result.conversations if c.verdict == "allowed"
    }
    assert ("guest:web02/nic0", "guest:web01/nic0") in allowed
    assert ("guest:app01/nic0", "guest:db01/nic0") in allowed
    subjects = {f.subject for f in result.findings}
    assert "guest:db01/nic0" not in subjects and "guest:ids01/monitor" not in subjects


def test_management_capture_judges_routed_and_direct_traffic() -> None:
    topology = load(TOPOLOGY)
    management = replay(topology, [CASES["esxi-management"][0]], at=CASES["esxi-management"][1])
    rules = {f.rule for f in management.findings}
    assert "observed-rogue-dhcp" not in rules and "observed-unknown-source" not in rules
    # the routed jump host is attributed by IP and allowed
    jump = [c for c in management.conversations if c.source.ref == "endpoint:jump01"]
    assert jump and jump[0].verdict == "allowed"


def test_accounting_balances_and_counts_the_cut_frame() -> None:
    result = replay(load(TOPOLOGY), [CASES["esxi-incident"][0]])
    account = result.tables.files[0]
    assert account.frames == 31 and account.balanced
    assert account.undecodable == {"truncated-ip": 1}


def test_unknown_capture_point_lists_valid_ones() -> None:
    with pytest.raises(SelectorError, match="tor1:Eth1/11"):
        replay(load(TOPOLOGY), [CASES["esxi-incident"][0]], at="tor1:Eth9/9")


def test_workers_give_identical_results(tmp_path: Path) -> None:
    files = []
    for i in range(3):
        for name, (capture, _) in CASES.items():
            target = tmp_path / f"{i}-{name}{Path(capture).suffix}"
            shutil.copy(REPO / capture, target)
            files.append(str(target))
    topology = load(TOPOLOGY)
    one = replay_document(replay(topology, files, workers=1), all_conversations=True)
    two = replay_document(replay(topology, files, workers=2), all_conversations=True)
    assert one == two


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_evidence_is_read_back_by_tshark(tmp_path: Path) -> None:
    result = replay(load(TOPOLOGY), [CASES["esxi-incident"][0]], at="tor1:Eth1/11")
    out = tmp_path / "evidence.pcapng"
    count = write_evidence_file(result, out)
    assert count > 0
    done = subprocess.run(
        ["tshark", "-r", str(out), "-T", "fields", "-e", "frame.comment"],
        capture_output=True,
        text=True,
        check=True,
    )
    comments = [line for line in done.stdout.splitlines() if line]
    assert len(comments) == count
    assert any("observed-guest-to-management" in c for c in comments)


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture, at = CASES["esxi-incident"]
    assert main(["replay", TOPOLOGY, capture, "--at", at]) == 1
    assert main(["replay", TOPOLOGY, capture, "--at", at, "--fail-on", "critical"]) == 1
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"this is not a capture")
    capsys.readouterr()
    assert main(["replay", TOPOLOGY, str(garbage), capture, "--format", "json"]) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["files"][0]["error"] and doc["files"][1]["frames"] == 31
    assert "Traceback" not in captured.err
    assert main(["replay", TOPOLOGY, capture, "--at", "nowhere"]) == 2


def test_verdicts_per_shape_equal_each_conversations_own() -> None:
    """The judge works a verdict out once per shape of conversation (sides' attribution,
    policy side and model class, service, answered) and reuses it: a fresh judge for each
    conversation, sharing nothing, must come to the same verdict and rules."""
    topology = load(TOPOLOGY)
    reach = analyse_reachability(topology)
    seen: set[str] = set()
    for capture, at in CASES.values():
        point = resolve_capture_point(topology, at)
        shared = Judge(topology, reach, point)
        conversations = list(tabulate([capture]).conversations.conversations())
        assert conversations
        for c in conversations:
            got = shared.judge(c)
            own = Judge(topology, reach, point).judge(c)
            assert (got.source, got.destination, got.verdict, got.rules) == (
                own.source,
                own.destination,
                own.verdict,
                own.rules,
            )
        seen |= {j.verdict for j in map(shared.judge, conversations)}
    assert seen >= {"allowed", "violation"}


def test_evidence_holds_the_icmp_errors_and_later_fragments_of_violations(tmp_path: Path) -> None:
    from netseg.capture.reader import read_frames

    result = _replayed("esxi-icmp-errors")
    out = tmp_path / "e.pcapng"
    assert write_evidence_file(result, out) == 4  # both probes and both ICMP errors
    got = [r.frame_no for r in read_frames(out, range(1, 10))]
    assert len(got) == 4
