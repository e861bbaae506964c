"""Entity references: one module writes the grammar of cli-and-outputs.md, nothing else does."""

from __future__ import annotations

import re

from netseg.model import refs
from netseg.topology import load
from tests.conftest import REPO, TOPOLOGIES

# the spellings of capture/judge.py (mac:) are left to the replay work that owns the module
ALLOWED = {"netseg/model/refs.py", "netseg/capture/judge.py"}
WRITTEN = re.compile('f"(?:' + "|".join(refs.KINDS) + r"):\{")


def test_every_reference_has_the_documented_shape() -> None:
    assert refs.guest("web01", "nic0") == "guest:web01/nic0"
    assert refs.guest("web01") == "guest:web01"
    assert refs.management("esx01", "vmk0") == "management:esx01/vmk0"
    assert refs.endpoint("db1") == "endpoint:db1"
    assert refs.router("core-fw", "vlan50") == "router:core-fw/vlan50"
    assert refs.router("core-fw") == "router:core-fw"
    assert refs.host("esx01") == "host:esx01"
    assert refs.nic("esx01", "vmnic0") == "nic:esx01/vmnic0"
    assert refs.vswitch("esx01", "vSwitch0") == "vswitch:esx01/vSwitch0"
    assert refs.portgroup("esx01", "vSwitch0", "prod") == "portgroup:esx01/vSwitch0/prod"
    assert refs.switch("tor1", "Eth1/1") == "switch:tor1/Eth1/1"
    assert refs.zone("web") == "zone:web"
    assert refs.mac("00:50:56:00:00:99") == "mac:00:50:56:00:00:99"


def test_parsing_keeps_slashes_in_names() -> None:
    assert refs.split("guest:lab/a/nic0") == ("guest", "lab/a/nic0")
    assert refs.last("guest:lab/a/nic0") == ("lab/a", "nic0")
    assert refs.under("management:esx/01/vmk0", "esx/01") == "vmk0"
    assert refs.body("router:core-fw", "router") == "core-fw"
    assert refs.kind("switch:tor1/Eth1/1") == "switch"


def test_the_model_names_its_entities_through_the_module() -> None:
    t = load(TOPOLOGIES / "esxi-cluster.yaml")
    for g in t.guests:
        for n in g.nics:
            assert n.ref == refs.guest(g.name, n.name)
    for h in t.hosts:
        assert h.ref == refs.host(h.name)
        for m in h.management:
            assert m.ref == refs.management(h.name, m.name)
    for r in t.routers:
        assert r.ref == refs.router(r.name)


def test_no_other_module_writes_the_grammar() -> None:
    offenders = []
    for path in sorted((REPO / "netseg").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in ALLOWED:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WRITTEN.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert not offenders, "entity references spelled outside netseg/model/refs.py:\n" + "\n".join(
        offenders
    )
