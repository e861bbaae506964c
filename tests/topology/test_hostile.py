"""Hostile and degenerate input is refused with one clear, located message, never executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from netseg.cli.main import main
from netseg.errors import TopologyError
from netseg.topology import load, loads
from netseg.topology.source import MAX_BYTES


def _problem(text: str | bytes) -> str:
    with pytest.raises(TopologyError) as info:
        loads(text, "t.yaml")
    assert len(info.value.problems) == 1
    return str(info.value.problems[0])


def test_object_constructing_tags_are_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f'netseg: 1\nname: x\nhosts: !!python/object/apply:os.system ["touch {marker}"]\n'
    assert "is not allowed" in _problem(text)
    assert not marker.exists()


def test_custom_local_tags_are_refused() -> None:
    assert "'!thing' is not allowed" in _problem("netseg: 1\nname: x\nhosts: !thing []\n")


def test_recursive_alias_is_refused() -> None:
    assert "recursive YAML alias" in _problem("netseg: 1\nname: x\nhosts: &a [*a]\n")


def test_alias_bomb_is_refused_before_expansion() -> None:
    lines = ["netseg: 1", "name: x", 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 12):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 8) + "]")
    lines.append("hosts: *l11")
    assert "billion laughs" in _problem("\n".join(lines) + "\n")


def test_moderate_alias_reuse_is_accepted() -> None:
    text = """
netseg: 1
name: anchors
x-sec: &sec {promiscuous: false, mac_changes: false, forged_transmits: false}
hosts: []
"""
    with pytest.raises(TopologyError) as info:
        loads(text)
    # the anchor itself is fine; only the unknown top-level key is reported
    assert [p.message for p in info.value.problems] == ["unknown key 'x-sec' in Topology"]


def test_merge_keys_expand() -> None:
    text = """
netseg: 1
name: merge
hosts:
  - &base {name: h1, hypervisor: xen}
  - <<: *base
    name: h2
"""
    t = loads(text)
    assert [h.name for h in t.hosts] == ["h1", "h2"]
    assert t.hosts[1].hypervisor.value == "xen"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n\n# only a comment\n", "the file is empty"),
        (b"\x00\x01\x02garbage", "binary file"),
        (b"\xff\xfe\xfa not utf8 at all", "not UTF-8"),
        (b"- a\n- b\n", "top level must be a mapping"),
        (b"42\n", "top level must be a mapping"),
        (b"a: [1, 2\n", "YAML syntax error"),
        (b"netseg: 1\nname: a\nname: b\nhosts: []\n", "duplicate key 'name'"),
    ],
)
def test_degenerate_files_give_one_clear_message(content: bytes, message: str) -> None:
    assert message in _problem(content)


def test_files_over_64_mib_are_refused_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "huge.yaml"
    with big.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(TopologyError) as info:
        load(big)
    assert "over 64 MiB" in str(info.value)


def test_missing_file_and_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml"), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml: no such file" in err
    assert "is a directory" in err
    assert "Traceback" not in err


def test_unquoted_mac_is_not_read_as_a_base_60_number() -> None:
    text = """
netseg: 1
name: mac
switches: [{name: s, ports: [{name: p1, mode: access, vlan: 10}]}]
endpoints: [{name: e, switch: s, port: p1, mac: 00:11:22:33:44:55}]
hosts: []
"""
    assert loads(text).endpoints[0].mac == "00:11:22:33:44:55"


def test_validate_never_modifies_the_input(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    original = b"netseg: 1\nname: x\nhosts: [{name: h, hypervisor: kvm}]\n"
    path.write_bytes(original)
    assert main(["validate", str(path)]) == 2
    assert path.read_bytes() == original
