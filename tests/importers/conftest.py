"""Fixtures of the importer tests that need a real component: an Open vSwitch database served by
ovsdb-server (no kernel module, no ovs-vswitchd), and libvirt's virsh."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")

# kvm01's switch (tests/data/imports/ovs/kvm01.json is what `ovs-vsctl --format=json list` prints
# for it): a bonded uplink, the host's internal interface in VLAN 10, guest ports of the libvirt
# estate tests/data/imports/libvirt/kvm01-estate.xml (joined by MAC), a port OVS alone knows,
# a patch to a second bridge and a VXLAN tunnel.
KVM01 = [
    [
        "set",
        "Open_vSwitch",
        ".",
        "external-ids:hostname=kvm01.example.net",
        "external-ids:system-id=2f8a1c52-6c0e-4d7a-9d1e-6b2f00000001",
    ],
    ["add-br", "ovsbr0"],
    ["add-bond", "ovsbr0", "bond0", "ens1f0", "ens1f1", "lacp=active", "bond_mode=balance-tcp"],
    ["add-port", "ovsbr0", "mgmt0", "tag=10", "--", "set", "Interface", "mgmt0", "type=internal"],
    [
        "add-port",
        "ovsbr0",
        "vnet0",
        "tag=110",
        "--",
        "set",
        "Interface",
        "vnet0",
        "external-ids:attached-mac=52:54:00:00:01:01",
        "external-ids:vm-id=5f3b8a4e-1d2c-4e6f-8a9b-000000000101",
    ],
    [
        "add-port",
        "ovsbr0",
        "vnet1",
        "tag=120",
        "--",
        "set",
        "Interface",
        "vnet1",
        "external-ids:attached-mac=52:54:00:00:01:02",
        "external-ids:vm-id=5f3b8a4e-1d2c-4e6f-8a9b-000000000102",
    ],
    [
        "add-port",
        "ovsbr0",
        "vnet2",
        "tag=110",
        "trunks=110,120",
        "vlan_mode=native-untagged",
        "--",
        "set",
        "Interface",
        "vnet2",
        "external-ids:attached-mac=52:54:00:00:01:03",
        "external-ids:vm-id=5f3b8a4e-1d2c-4e6f-8a9b-000000000103",
    ],
    [
        "add-port",
        "ovsbr0",
        "vnet9",
        "tag=130",
        "--",
        "set",
        "Interface",
        "vnet9",
        "external-ids:attached-mac=52:54:00:00:01:09",
        "external-ids:vm-id=5f3b8a4e-1d2c-4e6f-8a9b-000000000109",
    ],
    [
        "add-port",
        "ovsbr0",
        "patch-ex",
        "--",
        "set",
        "Interface",
        "patch-ex",
        "type=patch",
        "options:peer=patch-int",
    ],
    [
        "add-port",
        "ovsbr0",
        "vxlan0",
        "--",
        "set",
        "Interface",
        "vxlan0",
        "type=vxlan",
        "options:remote_ip=198.51.100.20",
    ],
    ["add-br", "br-ex"],
    ["add-port", "br-ex", "ens2"],
    [
        "add-port",
        "br-ex",
        "patch-int",
        "--",
        "set",
        "Interface",
        "patch-int",
        "type=patch",
        "options:peer=patch-ex",
    ],
]


class OvsDb:
    """A running ovsdb-server on a temporary unix socket."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "db.sock"
        self.address = f"unix:{self.socket}"
        self.env = {
            **os.environ,
            "OVS_RUNDIR": str(folder),
            "OVS_LOGDIR": str(folder),
            "OVS_DBDIR": str(folder),
        }

    def vsctl(self, *args: str) -> str:
        done = subprocess.run(
            ["ovs-vsctl", f"--db={self.address}", "--no-wait", "--timeout=10", *args],
            capture_output=True,
            text=True,
            env=self.env,
            check=True,
            timeout=30,
        )
        return done.stdout

    def build(self, commands: list[list[str]]) -> None:
        for command in commands:
            self.vsctl(*command)

    def lists(self) -> str:
        """What an administrator collects: the four tables, one JSON object each."""
        from netseg.importers.ovs import COLLECT

        return self.vsctl(*COLLECT)


@pytest.fixture
def ovsdb() -> Iterator[OvsDb]:
    """A fresh OVS database served by a real ovsdb-server, stopped afterwards whatever
    happens. Its folder is short: a unix socket path has at most 107 bytes."""
    for tool in ("ovsdb-tool", "ovsdb-server", "ovs-vsctl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (Debian package openvswitch-switch)")
    if not SCHEMA.is_file():
        pytest.skip(f"{SCHEMA} missing (Debian package openvswitch-switch)")
    folder = Path(tempfile.mkdtemp(prefix="netseg-ovs-"))
    db = OvsDb(folder)
    pidfile = folder / "ovsdb-server.pid"
    try:
        subprocess.run(
            ["ovsdb-tool", "create", str(folder / "conf.db"), str(SCHEMA)],
            check=True,
            capture_output=True,
            env=db.env,
        )
        subprocess.run(
            [
                "ovsdb-server",
                f"--remote=punix:{db.socket}",
                f"--unixctl={folder / 'ctl'}",
                f"--pidfile={pidfile}",
                "--detach",
                f"--log-file={folder / 'ovsdb-server.log'}",
                str(folder / "conf.db"),
            ],
            check=True,
            capture_output=True,
            env=db.env,
            timeout=30,
        )
        for _ in range(100):
            if db.socket.exists():
                break
            time.sleep(0.05)
        db.vsctl("init")
        yield db
    finally:
        if pidfile.exists():
            pid = int(pidfile.read_text().strip())
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 15)
            for _ in range(200):  # the daemon removes its pidfile as it exits
                if not pidfile.exists():
                    break
                time.sleep(0.01)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def virsh() -> str:
    path = shutil.which("virsh")
    if path is None:
        pytest.skip("virsh not installed (Debian package libvirt-clients)")
    return path


def import_cli(argv: list[str], out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """Run `netseg import ARGV -o OUT` as a user would; the file written, and standard error.
    The output must pass `netseg validate` unchanged."""
    from netseg.cli.main import main

    code = main(["import", *argv, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert main(["validate", str(out)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    return out.read_text(encoding="utf-8"), err


def check_golden(text: str, golden: Path) -> None:
    from tests.conftest import UPDATE_GOLDEN

    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text(encoding="utf-8")


def without_sources(document: object) -> object:
    """A document with every `source` dropped: the same estate read by two paths (files and a
    live service) differs only in where each entity was read."""
    if isinstance(document, dict):
        return {k: without_sources(v) for k, v in document.items() if k != "source"}
    if isinstance(document, list):
        return [without_sources(v) for v in document]
    return document
