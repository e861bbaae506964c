"""The dom0 firewall netseg fix generates for the Xen worked example, proven in a real kernel:
``nft -c`` accepts it, and loaded into a "dom0" network namespace joined to a "guest"
namespace by a veth pair, the allowed sources connect on the allowed services and everything
else is dropped. Skipped with the reason where nft, ip or namespaces are not available."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from netseg.analysis import analyse, load
from netseg.model.services import ServiceSet
from netseg.rules import vendor
from netseg.rules.remedies import Context, candidates
from tests.conftest import REPO

DOM0 = "192.0.2.12"  # xen02's management address in topologies/xen-host.yaml
ADMIN = "192.0.2.100"  # jump01 (zone admin)
GUEST = "198.51.100.40"  # legacy01 (zone legacy)


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def _xen02_ruleset() -> str:
    topo = load(REPO / "topologies" / "xen-host.yaml")
    analysis = analyse(topo)
    finding = next(f for f in analysis.findings if f.rule == "management-firewall-missing")
    edit = candidates(Context(topo, analysis.reachability), finding)[0]
    (cmd,) = [c for c in edit.commands if c.language == "nft"]
    return cmd.text


def test_ruleset_names_the_policy() -> None:
    text = _xen02_ruleset()
    assert "policy drop;" in text
    assert f"ip saddr {ADMIN}/32 tcp dport {{ 22, 443 }} accept" in text
    assert GUEST not in text


def test_nft_accepts_the_ruleset(tmp_path: Path) -> None:
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed (apt-get install nftables)")
    f = tmp_path / "dom0.nft"
    f.write_text(_xen02_ruleset())
    run = _run("nft", "-c", "-f", str(f), check=False)
    if run.returncode != 0 and "Operation not permitted" in run.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert run.returncode == 0, run.stderr


_CONNECT = """
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket()
s.settimeout(1.5)
s.bind((src, 0))
try:
    s.connect((dst, port))
    print("open")
except (TimeoutError, socket.timeout):
    print("timeout")
except ConnectionRefusedError:
    print("refused")
"""

_LISTEN = """
import socket, sys, time
socks = []
for port in map(int, sys.argv[2:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], port))
    s.listen(16)
    socks.append(s)
print("ready", flush=True)
time.sleep(60)
"""


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str]]:
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install nftables iproute2)")
    tag = uuid.uuid4().hex[:6]
    dom0, guest = f"netseg-dom0-{tag}", f"netseg-guest-{tag}"
    made = _run("ip", "netns", "add", dom0, check=False)
    if made.returncode != 0:
        pytest.skip(f"network namespaces are not permitted here: {made.stderr.strip()}")
    try:
        _run("ip", "netns", "add", guest)
        _run(
            "ip",
            "link",
            "add",
            f"d{tag}",
            "netns",
            dom0,
            "type",
            "veth",
            "peer",
            "name",
            f"g{tag}",
            "netns",
            guest,
        )
        _run("ip", "-n", dom0, "addr", "add", f"{DOM0}/24", "dev", f"d{tag}")
        _run("ip", "-n", dom0, "addr", "add", "198.51.100.1/24", "dev", f"d{tag}")
        _run("ip", "-n", guest, "addr", "add", f"{ADMIN}/24", "dev", f"g{tag}")
        _run("ip", "-n", guest, "addr", "add", f"{GUEST}/24", "dev", f"g{tag}")
        for ns, dev in ((dom0, f"d{tag}"), (guest, f"g{tag}")):
            _run("ip", "-n", ns, "link", "set", dev, "up")
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "-n", guest, "route", "add", "default", "via", "198.51.100.1", check=False)
        yield dom0, guest
    finally:
        _run("ip", "netns", "del", guest, check=False)
        _run("ip", "netns", "del", dom0, check=False)


def test_the_ruleset_works_in_a_kernel(namespaces: tuple[str, str], tmp_path: Path) -> None:
    dom0, guest = namespaces
    rules = tmp_path / "dom0.nft"
    rules.write_text(_xen02_ruleset())
    listen = tmp_path / "listen.py"
    listen.write_text(_LISTEN)
    connect = tmp_path / "connect.py"
    connect.write_text(_CONNECT)
    ports = ["22", "443", "80", "8080"]
    server = subprocess.Popen(
        ["ip", "netns", "exec", dom0, sys.executable, str(listen), DOM0, *ports],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"

        def attempt(src: str, port: str) -> str:
            out = _run("ip", "netns", "exec", guest, sys.executable, str(connect), src, DOM0, port)
            return out.stdout.strip()

        # without the firewall everything connects (the test can tell open from dropped)
        assert attempt(GUEST, "8080") == "open"
        loaded = _run("ip", "netns", "exec", dom0, "nft", "-f", str(rules), check=False)
        assert loaded.returncode == 0, loaded.stderr
        # the admin zone on the policy's services: open; everything else dropped
        assert attempt(ADMIN, "22") == "open"
        assert attempt(ADMIN, "443") == "open"
        assert attempt(ADMIN, "80") in ("timeout", "refused")
        for port in ports:
            assert attempt(GUEST, port) in ("timeout", "refused"), port
        # loading it again gives the same rules (the table is flushed first)
        again = _run("ip", "netns", "exec", dom0, "nft", "-f", str(rules), check=False)
        assert again.returncode == 0, again.stderr
        assert attempt(ADMIN, "22") == "open"
    finally:
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


def test_services_become_nft_port_sets() -> None:
    allow = vendor.FirewallAllow("zone admin", (), ServiceSet.parse(["tcp/22", "tcp/8000-8100"]))
    assert "no addresses declared" in vendor.nft_ruleset("h", [allow])
    assert os.sep  # the module needs no I/O
