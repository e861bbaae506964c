"""netseg import switch: running configurations of IOS, NX-OS, EOS and Junos, and LLDP/CDP
neighbour tables, as switches, ports, SVI routers, links and host cables.

The meanings of the real configurations in ../shared/corpus/imports/switch-configs are those
their authors state: the NX-OS file's comments are parsed and checked interface by interface;
for the others the expectations are written here, each with where it comes from.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from netseg.cli.main import main
from netseg.errors import ImportSourceError
from netseg.importers import ImportRequest, run_import
from netseg.importers.switch import SwitchImporter, read_config
from netseg.importers.switch.build import expand_port
from netseg.importers.switch.junos import flatten
from netseg.model.vlans import VlanSet
from tests.conftest import CORPUS, DATA
from tests.importers.conftest import check_golden as shared_check_golden

FIXTURES = DATA / "imports" / "switch"
GOLDEN = DATA / "golden" / "imports" / "switch"
CONFIGS = sorted(p for p in FIXTURES.iterdir() if p.is_file())
HOSTS = FIXTURES / "hosts" / "esx-estate.yaml"
SWITCH_CORPUS = CORPUS / "imports" / "switch-configs"
# Apache-2.0 samples get goldens; the GPL-3.0 ciscoconfparse2 sample is only read at test time
BATFISH = ["eos-allowed-vlans.cfg", "ios_switchport_mode.cfg", "junos-vlan-all.conf",
           "nxos_interface_switchport.cfg"]  # fmt: skip


def corpus_file(*parts: str) -> Path:
    path = SWITCH_CORPUS.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"the shared corpus is not present ({path})")
    return path


def facts_of(path: Path):  # type: ignore[no-untyped-def]
    return read_config(path.read_text(encoding="utf-8"), str(path))


def imported(*inputs: Path, **options: str):  # type: ignore[no-untyped-def]
    return SwitchImporter().read(ImportRequest(tuple(str(p) for p in inputs), options))


def check_golden(name: str, text: str) -> None:
    shared_check_golden(text, GOLDEN / name)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# --- the real configurations: their stated meanings ------------------------------------------


def _expectations(text: str) -> dict[str, dict[str, str]]:
    """``! - key = value`` comment lines above each ``interface`` of Batfish's NX-OS test."""
    out: dict[str, dict[str, str]] = {}
    pending: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"^! - (.+?) = (.+?)\s*$", line)
        if m:
            pending[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^interface (\S+)", line)
        if m:
            if pending:
                out[m.group(1)] = pending
            pending = {}
    return out


def _vlans(text: str) -> VlanSet:
    text = text.split("(")[0].strip()
    if text == "{}":
        return VlanSet.empty()
    return VlanSet.parse(text.replace(" ", ""))


def test_nxos_interfaces_mean_what_batfish_states() -> None:
    path = corpus_file("batfish", "nxos_interface_switchport.cfg")
    text = path.read_text(encoding="utf-8")
    facts = facts_of(path)
    assert facts.dialect == "nxos"
    stated = _expectations(text)
    assert len(stated) >= 18, "the comment format changed: expectations not found"
    for name, expect in stated.items():
        iface = facts.interfaces[name]
        if "shutdown" in expect:
            assert iface.shutdown == (expect["shutdown"] == "true"), name
        if "switchport" in expect:
            assert iface.switchport == (expect["switchport"] == "true"), name
        mode = expect.get("switchport mode", "").upper()
        if mode == "NONE":
            assert iface.mode == "routed", name
        elif mode in ("ACCESS", "TRUNK"):
            assert iface.mode == mode.lower(), name
        elif mode == "MONITOR":
            assert iface.mode == "unmodelled" and "monitor" in iface.unmodelled, name
        access = expect.get("switchport access vlan")
        if access == "null":  # a VLAN the switch does not have: the port forwards nothing
            assert facts.declared_vlans is not None
            assert iface.access_vlan not in facts.declared_vlans, name
        elif access is not None:
            assert iface.access_vlan == int(access), name
        if "switchport native vlan" in expect:
            assert iface.native == int(expect["switchport native vlan"]), name
        if "switchport allowed vlans" in expect:
            assert iface.allowed == _vlans(expect["switchport allowed vlans"]), name


# Batfish AristaGrammarTest.testAllowedVlans states these for eos-allowed-vlans
EOS_ALLOWED = {
    "Port-Channel1": "1-2", "Port-Channel2": "2-3", "Port-Channel3": None, "Port-Channel4": None,
    "Port-Channel5": "all", "Port-Channel6": "1,3-4", "Port-Channel7": "all",
    "Port-Channel8": "1-6,8-4094", "Port-Channel9": "all", "Port-Channel10": "all",
}  # fmt: skip


def test_eos_allowed_vlans_mean_what_batfish_states() -> None:
    facts = facts_of(corpus_file("batfish", "eos-allowed-vlans.cfg"))
    assert facts.dialect == "eos"
    for name, allowed in EOS_ALLOWED.items():
        iface = facts.interfaces[name]
        assert iface.mode == "trunk" and iface.native == 1, name
        assert iface.allowed == (VlanSet.parse(allowed) if allowed else VlanSet.empty()), name
    ports = {
        p["name"]
        for p in imported(corpus_file("batfish", "eos-allowed-vlans.cfg")).document["switches"][0][
            "ports"
        ]
    }
    assert "Port-Channel3" not in ports and "Port-Channel4" not in ports  # they forward nothing


def test_ios_switchport_modes() -> None:
    """Catalyst IOS: interfaces are switchports; without 'switchport mode' they negotiate with
    DTP (dynamic auto) and are access ports until a neighbour asks for a trunk; 'switchport
    trunk encapsulation' and an allowed list do not make a trunk by themselves."""
    facts = facts_of(corpus_file("batfish", "ios_switchport_mode.cfg"))
    assert facts.dialect == "ios"
    expect = {
        "Ethernet0/0": ("dynamic", 1), "Ethernet0/1": ("dynamic", 1),
        "Ethernet0/2": ("access", 1), "Ethernet0/3": ("trunk", "all"),
        "Ethernet0/4": ("dynamic", 1), "Ethernet0/5": ("dynamic", 1), "Ethernet0/6": ("dynamic", 1),
    }  # fmt: skip
    for name, (mode, vlans) in expect.items():
        iface = facts.interfaces[name]
        assert iface.switchport and not iface.shutdown and iface.mode == mode, name
        if mode == "trunk":
            assert iface.allowed == VlanSet.parse(vlans) and iface.native == 1
        else:
            assert iface.access_vlan == vlans
    # the configured allowed lists are kept for when DTP makes them trunks
    assert facts.interfaces["Ethernet0/4"].allowed == VlanSet.parse("1-2")
    assert facts.interfaces["Ethernet0/6"].allowed == VlanSet.parse("5-6")
    warnings = [
        w
        for w in imported(corpus_file("batfish", "ios_switchport_mode.cfg")).warnings
        if "DTP" in w.message
    ]
    assert len(warnings) == 1 and "5 port(s)" in warnings[0].message


def test_junos_vlan_members_all() -> None:
    facts = facts_of(corpus_file("batfish", "junos-vlan-all.conf"))
    assert facts.dialect == "junos" and facts.hostname == "juniper-vlan-all"
    iface = facts.interfaces["et-0/0/0"]
    # no VLAN is declared, so 'all' stays every VLAN; no native-vlan-id: untagged frames dropped
    assert iface.mode == "trunk" and iface.allowed == VlanSet.full() and iface.native is None


def test_old_catalyst_config(capsys: pytest.CaptureFixture[str]) -> None:
    """ciscoconfparse2's sample_02 (IOS 12.0): indented 'interface' lines, a banner, shut ports,
    a shut SVI and a routed one."""
    path = corpus_file("ciscoconfparse2", "sample_02.ios")
    facts = facts_of(path)
    assert facts.dialect == "ios" and facts.hostname == "Foo"
    i = facts.interfaces
    assert (i["FastEthernet0/1"].mode, i["FastEthernet0/1"].access_vlan) == ("dynamic", 532)
    assert i["FastEthernet0/6"].access_vlan == 24  # its 'interface' line is indented
    assert i["FastEthernet0/7"].shutdown and i["FastEthernet0/5"].access_vlan == 300
    assert (
        i["GigabitEthernet0/1"].mode == "trunk"
        and i["GigabitEthernet0/1"].allowed == VlanSet.full()
    )
    assert i["VLAN1"].shutdown and i["VLAN24"].svi_vlan == 24
    assert [str(a) for a, _ in i["VLAN24"].addresses] == ["172.24.24.101/23"]
    code, out, err = run_cli(["import", "switch", str(path)], capsys)
    assert code == 0
    assert "publicstrang" not in out + err and "privatestrang" not in out + err
    assert "FastEthernet0/7" not in out  # shut down: forwards nothing


@pytest.mark.parametrize("name", BATFISH)
def test_corpus_golden(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus_file("batfish", name)
    out = tmp_path / f"{name}.yaml"
    code, _, err = run_cli(["import", "switch", str(path), "-o", str(out)], capsys)
    assert code == 0, err
    check_golden(f"corpus-{name}.yaml", out.read_text(encoding="utf-8"))
    assert run_cli(["validate", str(out)], capsys)[0] == 0


# --- the fabric fixtures ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_fabric_golden(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"fabric.{fmt}"
    args = ["import", "switch", *map(str, CONFIGS), "--hosts-from", str(HOSTS), "-o", str(out)]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    check_golden(f"fabric.{fmt}", text)
    assert run_cli(["validate", str(out)], capsys)[0] == 0
    assert run_cli(args, capsys)[0] == 0
    assert out.read_text(encoding="utf-8") == text  # byte-identical on a second run
    assert "n0tInOutput" not in text + err  # the SNMP community is never written


def test_fabric_ports_and_routers() -> None:
    doc = imported(*CONFIGS).document
    switches = {s["name"]: {p["name"]: p for p in s["ports"]} for s in doc["switches"]}
    tor1 = switches["tor1"]
    assert (
        tor1["GigabitEthernet1/0/2"]["allowed"] == "10,20,30"
    )  # add 30-40, remove 35, declared only
    assert tor1["GigabitEthernet1/0/2"]["native"] == 99
    assert "GigabitEthernet1/0/4" not in tor1  # range member shut down afterwards
    assert tor1["GigabitEthernet1/0/3"]["vlan"] == 20  # from the interface range
    assert tor1["GigabitEthernet1/0/6"]["allowed"] == tor1["Port-channel1"]["allowed"] == "10,20,30"
    tor2 = switches["tor2"]
    assert tor2["Ethernet1/1"]["allowed"] == "20,30"  # 4000 is not a VLAN of tor2
    assert tor2["Ethernet1/3"]["native"] == 99 and "Ethernet1/5" not in tor2  # routed
    assert switches["leaf1"]["Ethernet2"]["native"] == "none"  # EOS native vlan tag
    assert switches["leaf2"]["ae0"]["native"] == 99 and "xe-0/0/5" not in switches["leaf2"]
    assert "xe-0/0/8" not in switches["leaf2"]  # inactive:
    assert (
        switches["leaf3"]["xe-0/0/0"]["allowed"] == "10,20-21"
        and "xe-0/0/9" not in switches["leaf3"]
    )
    routers = {r["name"]: r for r in doc["routers"]}
    assert set(routers) == {"leaf1", "leaf2", "leaf3", "tor1", "tor1 vrf STORAGE", "tor2"}
    assert [i["address"] for i in routers["tor1"]["interfaces"]] == [
        "192.0.2.1/26", "198.51.100.1/26", "198.51.100.65/26", "2001:db8:20::1/64"
    ]  # fmt: skip
    assert all(r["default"] == "permit" for r in routers.values())
    # MGMT-IN in on Vlan10: lines restricted to the VLAN's subnet, the wide permit kept, the
    # inexpressible deny left out, then the implicit deny
    acl = routers["tor1"]["acl"]
    assert [(a["action"], a["from"], a["to"], a.get("services")) for a in acl] == [
        ("permit", "192.0.2.10/32", "any", ["tcp/443"]),
        ("permit", "192.0.2.0/26", "198.51.100.0/26", ["tcp/22"]),
        ("deny", "192.0.2.0/26", "any", "any"),
        ("deny", "192.0.2.0/26", "any", None),
    ]
    assert "tor2" in routers and len(routers["tor2"]["interfaces"]) == 1  # Vlan30 is shut


def test_neighbours_give_links_and_host_cables() -> None:
    result = imported(*CONFIGS, hosts_from=str(HOSTS))
    doc = result.document
    # tor1's LLDP and tor2's CDP both see the uplink: one link
    assert doc["links"] == [["tor1:GigabitEthernet1/0/48", "tor2:Ethernet1/48"]]
    hosts = {h["name"]: {n["name"]: n for n in h["nics"]} for h in doc["hosts"]}
    esx01 = hosts["esx01.example.net"]
    assert (esx01["vmnic0"]["switch"], esx01["vmnic0"]["port"]) == ("tor1", "GigabitEthernet1/0/1")
    assert (esx01["vmnic2"]["switch"], esx01["vmnic2"]["port"]) == ("tor2", "Ethernet1/1")
    assert "switch" not in esx01["vmnic1"]  # no neighbour data: no cable invented
    # esx02 sent its MAC as port id: matched by port description
    assert hosts["esx02"]["vmnic4"]["port"] == "GigabitEthernet1/0/6"
    assert [g["name"] for g in doc["guests"]] == ["web01"]
    messages = [str(w) for w in result.warnings]
    assert any("old-printer" in m and "shut down" in m and "tor1.lldp.txt:" in m for m in messages)


def test_without_neighbour_tables_no_cable_and_no_link() -> None:
    configs = [p for p in CONFIGS if p.suffix in (".ios", ".nxos")]
    doc = imported(*configs, hosts_from=str(HOSTS)).document
    assert "links" not in doc
    assert all("switch" not in n for h in doc["hosts"] for n in h["nics"])


def test_conflicting_cable_keeps_the_hosts_file(tmp_path: Path) -> None:
    text = HOSTS.read_text(encoding="utf-8").replace(
        "- {name: vmnic0}", "- {name: vmnic0, switch: tor2, port: Ethernet1/2}"
    )
    hosts = tmp_path / "estate.yaml"
    hosts.write_text(text, encoding="utf-8")
    result = imported(*CONFIGS, hosts_from=str(hosts))
    nic = next(n for h in result.document["hosts"] for n in h["nics"] if n["name"] == "vmnic0")
    assert (nic["switch"], nic["port"]) == ("tor2", "Ethernet1/2")
    assert any("keeping estate.yaml's" in w.message for w in result.warnings)


@pytest.mark.parametrize(
    ("short", "full"),
    [("Gi1/0/1", "GigabitEthernet1/0/1"), ("Eth1/48", "Ethernet1/48"), ("Et1", "Ethernet1"),
     ("Po1", "Port-channel1"), ("Te1/1/1", None), ("xe-0/0/1", "xe-0/0/1")],
)  # fmt: skip
def test_short_port_names_expand(short: str, full: str | None) -> None:
    names = ["GigabitEthernet1/0/1", "Ethernet1/48", "Ethernet1", "Port-channel1", "xe-0/0/1"]
    assert expand_port(short, names) == full


# --- the analysis on an import ---------------------------------------------------------------


def _check(
    configs: list[Path], hosts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, list[str]]:
    out = tmp_path / "estate.json"
    code, _, err = run_cli(
        ["import", "switch", *map(str, configs), "--hosts-from", str(hosts), "-o", str(out)], capsys
    )
    assert code == 0, err
    code, stdout, _ = run_cli(["check", str(out), "--format", "json"], capsys)
    findings: dict[str, list[str]] = {}
    for f in json.loads(stdout)["findings"]:
        findings.setdefault(f["rule"], []).append(f["subject"])
    return findings


def test_check_sees_routing_between_svis_and_the_acl_that_stops_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """web01 (VLAN 20, on tor2) reaches esx01's vmk0 (VLAN 10, on tor1) through tor1's SVIs once
    the host firewall lets it; an inbound ACL on Vlan20 that denies the management subnet stops
    it."""
    open_fw = tmp_path / "estate-open.yaml"
    open_fw.write_text(
        HOSTS.read_text(encoding="utf-8").replace("- {from: management}", "- {from: any}"),
        encoding="utf-8",
    )
    configs = [
        p
        for p in CONFIGS
        if p.name in ("tor1.ios", "tor2.nxos", "tor1.lldp.txt", "tor2-neighbours.txt")
    ]
    findings = _check(configs, open_fw, tmp_path, capsys)
    assert "guest:web01/nic0" in findings.get("guest-reaches-management", [])
    guarded = tmp_path / "tor1.ios"
    guarded.write_text(
        (FIXTURES / "tor1.ios").read_text(encoding="utf-8")
        .replace(" ip address 198.51.100.1 255.255.255.192\n", " ip address 198.51.100.1 255.255.255.192\n ip access-group WEB-GUARD in\n")
        .replace("snmp-server", "ip access-list extended WEB-GUARD\n deny ip 198.51.100.0 0.0.0.63 192.0.2.0 0.0.0.63\n permit ip any any\n!\nsnmp-server"),
        encoding="utf-8",
    )  # fmt: skip
    lldp = tmp_path / "tor1.lldp.txt"
    lldp.write_text((FIXTURES / "tor1.lldp.txt").read_text(encoding="utf-8"), encoding="utf-8")
    configs = [guarded, lldp, FIXTURES / "tor2.nxos", FIXTURES / "tor2-neighbours.txt"]
    findings = _check(configs, open_fw, tmp_path, capsys)
    assert "guest:web01/nic0" not in findings.get("guest-reaches-management", [])


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("sysname core1\ninterface GigabitEthernet1/0/1\n port link-type trunk\n", "HP Comware"),
        ("just some notes\nabout the network\n", "not a switch configuration netseg reads"),
    ],
)
def test_unknown_dialect(
    text: str, expect: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "core1.cfg"
    bad.write_text(text, encoding="utf-8")
    out = tmp_path / "out.yaml"
    code, _, err = run_cli(["import", "switch", str(bad), "-o", str(out)], capsys)
    assert code == 2 and not out.exists()
    assert f"{bad}:1:" in err and expect in err and "Traceback" not in err


def test_forced_dialect(tmp_path: Path) -> None:
    cfg = tmp_path / "sw.cfg"
    cfg.write_text("hostname sw\ninterface Ethernet1\n!\n", encoding="utf-8")
    assert imported(cfg).warnings[0].message.startswith("no platform marker found")
    doc = imported(cfg, dialect="eos").document
    assert doc["switches"][0]["ports"] == [
        {"name": "Ethernet1", "source": "sw.cfg:2", "mode": "access", "vlan": 1}
    ]


def test_neighbour_table_of_a_switch_not_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        ["import", "switch", str(FIXTURES / "tor2-neighbours.txt"), str(FIXTURES / "tor1.ios")],
        capsys,
    )
    assert code == 2 and "tor2-neighbours.txt:1: neighbour table of tor2" in err
    orphan = tmp_path / "table.txt"
    orphan.write_text((FIXTURES / "tor1.lldp.txt").read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = run_cli(["import", "switch", str(orphan), str(FIXTURES / "tor1.ios")], capsys)
    assert code == 2 and "must say which switch" in err


def test_broken_junos(tmp_path: Path) -> None:
    bad = tmp_path / "j.conf"
    bad.write_text("system {\n    host-name j;\ninterfaces {\n", encoding="utf-8")
    with pytest.raises(ImportSourceError, match="left open"):
        imported(bad)


def test_junos_hierarchical_is_its_set_statements() -> None:
    text = (FIXTURES / "leaf2.junos").read_text(encoding="utf-8")
    statements = {" ".join(w) for _, w in flatten(text, "leaf2.junos")}
    assert (
        "interfaces interface-range HOSTS unit 0 family ethernet-switching vlan members web"
        in statements
    )
    assert (
        "interfaces interface-range HOSTS unit 0 family ethernet-switching vlan members mgmt"
        in statements
    )
    assert "firewall family inet filter MGMT-IN term rest then discard" in statements
    assert not any(s.startswith("interfaces xe-0/0/8") for s in statements)  # inactive:


def test_run_import_checks_the_output() -> None:
    result = run_import("switch", ImportRequest(tuple(map(str, CONFIGS))), name="fabric")
    assert result.counts["switches"] == 5 and result.counts["routers"] == 6


# --- switchport state, voice VLANs, more bad input -------------------------------------------

EXTRA = FIXTURES / "extra"


def test_switchport_state_means_what_ntc_templates_states() -> None:
    """ntc-templates' expected parse of its IOS `show interfaces switchport` sample, port by
    port: the trunk with its VLANs, and the DTP ports as access ports of their VLAN."""
    import yaml

    raw = corpus_file("ntc-templates", "cisco_ios_show_interfaces_switchport.raw")
    stated = yaml.safe_load(
        corpus_file("ntc-templates", "cisco_ios_show_interfaces_switchport.yml").read_text(
            encoding="utf-8"
        )
    )
    result = imported(raw)
    ports = {p["name"]: p for p in result.document["switches"][0]["ports"]}
    prefixes = {"Gi": "GigabitEthernet", "Fa": "FastEthernet"}
    for entry in stated["parsed_sample"]:
        name = prefixes[entry["interface"][:2]] + entry["interface"][2:]
        port = ports[name]
        if "trunk" in entry["admin_mode"]:
            assert port["mode"] == "trunk" and port["native"] == int(entry["native_vlan"]), name
            want = (
                "all"
                if entry["trunking_vlans"] == ["ALL"]
                else str(VlanSet.parse(",".join(entry["trunking_vlans"])))
            )
            assert port["allowed"] == want, name
        else:
            assert (port["mode"], port["vlan"]) == ("access", int(entry["access_vlan"])), name
    dynamic = sum(1 for e in stated["parsed_sample"] if e["admin_mode"].startswith("dynamic"))
    assert any(f"{dynamic} port(s) negotiate" in w.message for w in result.warnings)


def test_voice_vlan_is_tagged_on_the_access_port() -> None:
    ports = {p["name"]: p for p in imported(EXTRA / "access1.ios").document["switches"][0]["ports"]}
    assert ports["GigabitEthernet1/0/1"] | {"source": None} == {
        "name": "GigabitEthernet1/0/1", "source": None, "mode": "trunk", "allowed": "20,30",
        "native": 20, "description": "desk phone and PC; access VLAN 20 with voice VLAN 30",
    }  # fmt: skip
    assert ports["GigabitEthernet1/0/2"]["mode"] == "access"  # dot1p: priority-tagged VLAN 0


def test_switchport_state_alone_and_beside_its_configuration() -> None:
    alone = imported(EXTRA / "access1.switchport.txt")
    port = alone.document["switches"][0]["ports"][0]
    assert alone.document["switches"][0]["name"] == "access1"  # from the prompt line
    assert (port["name"], port["mode"], port["allowed"], port["native"]) == (
        "GigabitEthernet1/0/1",
        "trunk",
        "20,30",
        20,
    )
    both = imported(EXTRA / "access1.switchport.txt", EXTRA / "access1.ios")
    assert len(both.document["switches"]) == 1
    assert any("switchport state is not read" in w.message for w in both.warnings)


def test_unreadable_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "blob.cfg"
    binary.write_bytes(b"\x00\x01\x02hostname x\n")
    code, _, err = run_cli(["import", "switch", str(binary)], capsys)
    assert code == 2 and f"{binary}:1: is a binary file" in err
    code, _, err = run_cli(["import", "switch", str(tmp_path / "missing.cfg")], capsys)
    assert code == 2 and "missing.cfg: cannot read" in err
    # a Junos switch's table in IOS form: ntc-templates' Junos template refuses it
    leaf = tmp_path / "leaf3.lldp.txt"
    leaf.write_text((FIXTURES / "tor1.lldp.txt").read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = run_cli(["import", "switch", str(FIXTURES / "leaf3.set"), str(leaf)], capsys)
    assert (
        code == 2 and "leaf3.lldp.txt: not a LLDP neighbour table" in err and "Traceback" not in err
    )
    notes = tmp_path / "notes.yaml"
    notes.write_text("- just\n- a list\n", encoding="utf-8")
    code, _, err = run_cli(
        ["import", "switch", str(FIXTURES / "tor1.ios"), "--hosts-from", str(notes)], capsys
    )
    assert code == 2 and "notes.yaml: expected a topology" in err


def test_dialect_option_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["import", "switch", str(FIXTURES / "tor1.ios"), "--dialect", "vyos"])
    assert exc.value.code == 2 and "invalid choice: 'vyos'" in capsys.readouterr().err


def test_pre_els_vlan_membership(tmp_path: Path) -> None:
    cfg = tmp_path / "ex1.conf"
    cfg.write_text(
        "set system host-name ex1\n"
        "set vlans v10 vlan-id 10\n"
        "set vlans v10 interface ge-0/0/1.0\n"
        "set interfaces ge-0/0/1 unit 0 family ethernet-switching port-mode access\n",
        encoding="utf-8",
    )
    iface = facts_of(cfg).interfaces["ge-0/0/1"]
    assert (iface.mode, iface.access_vlan) == ("access", 10)


def test_a_port_seen_with_a_switch_and_a_host_is_not_cabled_to_the_host(tmp_path: Path) -> None:
    table = tmp_path / "tor1.lldp.txt"
    text = (FIXTURES / "tor1.lldp.txt").read_text(encoding="utf-8")
    # an unmanaged switch between: esx01's vmnic1 seen on the uplink port as well
    table.write_text(
        text.replace("Local Intf: Gi1/0/1\n", "Local Intf: Gi1/0/48\n", 1).replace(
            "Port id: vmnic0", "Port id: vmnic1", 1
        ),
        encoding="utf-8",
    )
    configs = [
        FIXTURES / "tor1.ios",
        FIXTURES / "tor2.nxos",
        table,
        FIXTURES / "tor2-neighbours.txt",
    ]
    result = imported(*configs, hosts_from=str(HOSTS))
    nics = {n["name"]: n for h in result.document["hosts"] for n in h["nics"]}
    assert "switch" not in nics["vmnic1"]
    assert result.document["links"] == [["tor1:GigabitEthernet1/0/48", "tor2:Ethernet1/48"]]
    assert any("also show cabled to a switch" in w.message for w in result.warnings)


SINGLE = sorted(
    p for p in [*CONFIGS, *EXTRA.iterdir()] if "lldp" not in p.name and "neighbours" not in p.name
)


@pytest.mark.parametrize("path", SINGLE, ids=lambda p: p.name)
def test_each_fixture_golden(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.yaml"
    code, _, err = run_cli(["import", "switch", str(path), "-o", str(out)], capsys)
    assert code == 0, err
    check_golden(f"{path.name}.yaml", out.read_text(encoding="utf-8"))
    assert run_cli(["validate", str(out)], capsys)[0] == 0


def test_forced_dialect_still_reads_neighbour_tables() -> None:
    doc = imported(FIXTURES / "tor1.ios", FIXTURES / "tor1.lldp.txt", dialect="ios").document
    ports = {p["name"]: p for p in doc["switches"][0]["ports"]}
    assert "LLDP neighbour esx01.example.net" in ports["GigabitEthernet1/0/1"]["description"]


@pytest.mark.parametrize("name", ["leaf2.junos", "leaf3.set"])
def test_junos_pasted_with_its_prompt(name: str, tmp_path: Path) -> None:
    pasted = tmp_path / name
    text = (FIXTURES / name).read_text(encoding="utf-8")
    pasted.write_text(
        "admin@leaf> show configuration | display set\n{master:0}\n" + text, encoding="utf-8"
    )
    a, b = facts_of(FIXTURES / name), facts_of(pasted)
    assert [(i.name, i.mode, i.allowed, i.native, i.line - 2) for i in b.interfaces.values()] == [
        (i.name, i.mode, i.allowed, i.native, i.line) for i in a.interfaces.values()
    ]


def test_allowed_vlans_the_switch_does_not_have_are_a_warning() -> None:
    messages = {w.source: w.message for w in imported(FIXTURES / "tor2.nxos").warnings}
    assert (
        "allows VLAN(s) 4000, which the configuration does not declare" in messages["tor2.nxos:36"]
    )


def test_hosts_file_in_json_form(tmp_path: Path) -> None:
    import yaml

    as_json = tmp_path / "esx-estate.json"
    as_json.write_text(
        json.dumps(yaml.safe_load(HOSTS.read_text(encoding="utf-8"))), encoding="utf-8"
    )
    from_yaml = imported(*CONFIGS, hosts_from=str(HOSTS)).document["hosts"]
    from_json = imported(*CONFIGS, hosts_from=str(as_json)).document["hosts"]
    assert [h["nics"] for h in from_json] == [h["nics"] for h in from_yaml]
    broken = tmp_path / "broken.json"
    broken.write_text('{"hosts": [', encoding="utf-8")
    with pytest.raises(ImportSourceError, match=r"broken\.json: not JSON"):
        imported(*CONFIGS, hosts_from=str(broken))


_EOS_TWO_HOSTS = """hostname sw9
vlan 10,20
interface Ethernet1
   switchport mode trunk
   switchport trunk allowed vlan 10,20
interface Ethernet2
   switchport mode trunk
   switchport trunk allowed vlan 10,20
"""

# EOS prints what Linux's lldpd sends: the MAC as port id, the interface only as port description
_EOS_LLDPD = """sw9#show lldp neighbors detail
Interface Ethernet1 detected 1 LLDP neighbors:

  Neighbor 0016.3e00.0901/0016.3e00.0902, age 7 seconds
  Discovered 1 day, 0:00:04 ago; Last changed 1 day, 0:00:04 ago
  - Chassis ID type: MAC address (4)
    Chassis ID     : 0016.3e00.0901
  - Port ID type: MAC address (3)
    Port ID        : 0016.3e00.0902
  - Port Description: "eth0"
  - Time To Live: 120 seconds
  - System Name: "kvm9.example.net"
  - System Description: "Debian GNU/Linux 12"

Interface Ethernet2 detected 1 LLDP neighbors:

  Neighbor 3cfd.fe00.0901/3cfd.fe00.0901, age 9 seconds
  Discovered 1 day, 0:00:04 ago; Last changed 1 day, 0:00:04 ago
  - Chassis ID type: MAC address (4)
    Chassis ID     : 3cfd.fe00.0901
  - Port ID type: MAC address (3)
    Port ID        : 3cfd.fe00.0901
  - Port Description: "NIC1"
  - Time To Live: 120 seconds
  - System Name: "HV9"
  - System Description: "Microsoft Windows Server 2022 Datacenter"
"""


def _host_file(path: Path, host: str, hypervisor: str, nic: str, zone: str) -> Path:
    path.write_text(
        f"netseg: 1\nname: {path.stem}\nzones:\n  {zone}: {{description: only in {path.name}}}\n"
        f"hosts:\n  - name: {host}\n    hypervisor: {hypervisor}\n    nics: [{{name: {nic}}}]\n"
        f"guests:\n  - {{name: {host}-g1, host: {host}, zone: {zone}, nics: []}}\n",
        encoding="utf-8",
    )
    return path


def test_eos_port_description_cables_a_linux_host_whose_port_id_is_its_mac(
    tmp_path: Path,
) -> None:
    config = tmp_path / "sw9.eos"
    config.write_text(_EOS_TWO_HOSTS, encoding="utf-8")
    table = tmp_path / "sw9.lldp.txt"
    table.write_text(_EOS_LLDPD, encoding="utf-8")
    hosts = _host_file(tmp_path / "kvm.yaml", "kvm9", "xen", "eth0", "lab")
    result = imported(config, table, hosts_from=str(hosts))
    (host,) = result.document["hosts"]
    assert host["nics"] == [{"name": "eth0", "switch": "sw9", "port": "Ethernet1"}]
    assert not [w for w in result.warnings if "not cabled" in str(w)]


def test_hosts_from_twice_cables_the_hosts_of_both_sources_and_keeps_both_files_zones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sw9.eos"
    config.write_text(_EOS_TWO_HOSTS, encoding="utf-8")
    table = tmp_path / "sw9.lldp.txt"
    table.write_text(_EOS_LLDPD, encoding="utf-8")
    kvm = _host_file(tmp_path / "kvm.yaml", "kvm9", "xen", "eth0", "lab")
    hv = _host_file(tmp_path / "hv.yaml", "HV9", "hyperv", "NIC1", "ops")
    out = tmp_path / "estate.yaml"
    argv = ["import", "switch", str(config), str(table), "--hosts-from", str(hv)]
    code, _, err = run_cli([*argv, "--hosts-from", str(kvm), "-o", str(out)], capsys)
    assert code == 0, err
    assert main(["validate", str(out)]) == 0, capsys.readouterr().err
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    cables = {
        (h["name"], n["name"]): (n.get("switch"), n.get("port"))
        for h in doc["hosts"]
        for n in h["nics"]
    }
    assert cables == {("HV9", "NIC1"): ("sw9", "Ethernet2"), ("kvm9", "eth0"): ("sw9", "Ethernet1")}
    assert set(doc["zones"]) == {"lab", "ops"}  # the second file's zone is not dropped
    assert {g["zone"] for g in doc["guests"]} == {"lab", "ops"}


def test_hosts_from_an_export_instead_of_its_import_is_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "hv9.json"  # what the Hyper-V script writes: no topology, no hosts
    export.write_text('{"NetsegCollection": "hyperv", "VMSwitch": []}', encoding="utf-8")
    config = tmp_path / "sw9.eos"
    config.write_text(_EOS_TWO_HOSTS, encoding="utf-8")
    out = tmp_path / "estate.yaml"
    argv = ["import", "switch", str(config), "--hosts-from", str(export), "-o", str(out)]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert f"{export}: holds no hosts: --hosts-from takes the topology another import wrote" in err
    assert not out.exists()
