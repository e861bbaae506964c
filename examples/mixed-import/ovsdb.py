"""xen-lab's Open vSwitch database, built for real: ovsdb-tool creates it, ovsdb-server serves it
on a temporary unix socket (no kernel module, no ovs-vswitchd), ``ovs-vsctl --no-wait`` fills
it, and what an administrator would collect on the host is saved:

    python3 examples/mixed-import/ovsdb.py examples/mixed-import/inputs/xen-lab/ovs.json

that is ``ovs-vsctl --format=json list Open_vSwitch -- list Bridge -- list Port -- list
Interface``. Needs the Debian package openvswitch-switch. The server is stopped afterwards,
whatever happens. ``COMMANDS`` is the one description of the database (the test builds it too).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
TOOLS = ("ovsdb-tool", "ovsdb-server", "ovs-vsctl")


def _guest(port: str, vlan: list[str], mac: str, n: int) -> list[str]:
    # what libvirt sets on a domain's OVS port: the MAC, the interfaceid as iface-id, the domain
    return [
        "add-port", "ovsbr0", port, *vlan, "--", "set", "Interface", port,
        f"external-ids:attached-mac={mac}",
        f"external-ids:iface-id=2c5a9e3b-0000-4000-8000-000000000{n}",
        f"external-ids:vm-id=9d4c7e1a-0000-4000-8000-000000000{n}",
    ]  # fmt: skip


COMMANDS: list[list[str]] = [
    ["set", "Open_vSwitch", ".", "external-ids:hostname=xen-lab.example.net"],
    ["add-br", "ovsbr0"],
    ["add-port", "ovsbr0", "eth0"],  # the uplink to sw1 Ethernet3
    ["add-port", "ovsbr0", "mgmt0", "tag=10", "--", "set", "Interface", "mgmt0", "type=internal"],
    _guest("vif1.0", ["tag=20"], "00:16:3e:00:14:01", 301),  # xen-lab1, portgroup lab
    _guest("vif2.0", ["tag=30"], "00:16:3e:00:1e:01", 302),  # xen-ops1, portgroup ops
    _guest("vif3.0", [], "00:16:3e:00:14:02", 303),  # xen-build1: no tag, OVS trunks every VLAN
]

LISTS = ["--format=json", "list", "Open_vSwitch", "--", "list", "Bridge", "--", "list", "Port",
         "--", "list", "Interface"]  # fmt: skip


def missing() -> str | None:
    """Why the database cannot be built here, or None."""
    for tool in TOOLS:
        if shutil.which(tool) is None:
            return f"{tool} not installed (Debian package openvswitch-switch)"
    if not SCHEMA.is_file():
        return f"{SCHEMA} missing (Debian package openvswitch-switch)"
    return None


def vsctl(address: str, env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        ["ovs-vsctl", f"--db={address}", "--no-wait", "--timeout=10", *args],
        capture_output=True, text=True, env=env, check=True, timeout=30,
    ).stdout  # fmt: skip


@contextlib.contextmanager
def served() -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh database served on a short temporary socket (a unix socket path has at most 107
    bytes): its address and the environment for ovs-vsctl. Stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="netseg-ovs-"))
    env = {
        **os.environ,
        "OVS_RUNDIR": str(folder),
        "OVS_LOGDIR": str(folder),
        "OVS_DBDIR": str(folder),
    }
    sock, pidfile = folder / "db.sock", folder / "ovsdb-server.pid"
    try:
        subprocess.run(["ovsdb-tool", "create", str(folder / "conf.db"), str(SCHEMA)],
                       check=True, capture_output=True, env=env)  # fmt: skip
        subprocess.run(
            ["ovsdb-server", f"--remote=punix:{sock}", f"--unixctl={folder / 'ctl'}",
             f"--pidfile={pidfile}", "--detach", f"--log-file={folder / 'log'}", str(folder / "conf.db")],
            check=True, capture_output=True, env=env, timeout=30,
        )  # fmt: skip
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        vsctl(f"unix:{sock}", env, "init")
        yield f"unix:{sock}", env
    finally:
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pidfile.read_text().strip()), 15)
            for _ in range(200):  # the daemon removes its pidfile as it exits
                if not pidfile.exists():
                    break
                time.sleep(0.01)
        shutil.rmtree(folder, ignore_errors=True)


def lists() -> str:
    """Build the database and return what `ovs-vsctl --format=json list …` prints for it."""
    with served() as (address, env):
        for command in COMMANDS:
            vsctl(address, env, *command)
        return vsctl(address, env, *LISTS)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: ovsdb.py OUTPUT.json", file=sys.stderr)
        return 2
    why = missing()
    if why:
        print(f"ovsdb.py: {why}", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(lists(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
