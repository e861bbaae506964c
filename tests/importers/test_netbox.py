"""netseg import netbox: the fixture estate (tests/importers/netbox_fixtures.py) as NetBox 4.x
saved pages and as NetBox 2.x bare lists, the pynetbox samples of the shared corpus, the live
path through pynetbox against a local HTTP server serving the saved pages, and bad inputs.

Regenerate the goldens deliberately with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from netseg.cli.main import main
from netseg.importers import ImportRequest, run_import
from netseg.topology import loads
from netseg.topology.dump import dumps
from tests.conftest import CORPUS, DATA
from tests.importers import netbox_fixtures as fx
from tests.importers.conftest import check_golden as shared_check_golden

GOLDEN = DATA / "golden" / "imports" / "netbox"
SAMPLES = CORPUS / "imports" / "netbox" / "pynetbox"
TOKEN = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    base = tmp_path_factory.mktemp("netbox")
    return {
        "netbox4": fx.write_pages(base / "netbox4"),
        "netbox2": fx.write_lists(base / "netbox2", fx.netbox2(fx.estate())),
    }


def _import(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["import", "netbox", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _golden(name: str, text: str) -> None:
    shared_check_golden(text, GOLDEN / name)


def _warnings(err: str) -> str:
    return "".join(line for line in err.splitlines(True) if ": warning: " in line)


@pytest.mark.parametrize(
    ("kind", "output"), [("netbox4", "netbox4.yaml"), ("netbox2", "netbox2.json")]
)
def test_saved_pages_import_as_their_golden_and_validate(
    kind: str,
    output: str,
    saved: dict[str, list[Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / output
    inputs = [str(p) for p in saved[kind]]
    code, _, err = _import([*inputs, "-o", str(out), "--name", "dc1"], capsys)
    assert code == 0, err
    _golden(output, out.read_text(encoding="utf-8"))
    _golden(output.split(".")[0] + ".warnings.txt", _warnings(err))
    assert main(["validate", str(out)]) == 0
    first = out.read_bytes()
    assert _import([*inputs, "-o", str(out), "--name", "dc1"], capsys)[0] == 0
    assert out.read_bytes() == first  # byte-identical on a second run
    assert _import([*inputs[::-1], "-o", str(out), "--name", "dc1"], capsys)[0] == 0
    # whatever the order of the files (the header lists them as given)
    assert out.read_bytes().split(b"\n", 1)[1] == first.split(b"\n", 1)[1]


def test_netbox_2_and_4_field_names_read_as_the_same_estate(saved: dict[str, list[Path]]) -> None:
    a = run_import("netbox", ImportRequest(tuple(map(str, saved["netbox4"]))), name="x")
    b = run_import("netbox", ImportRequest(tuple(map(str, saved["netbox2"]))), name="x")
    assert dumps(loads(a.text, "a.yaml")) == dumps(loads(b.text, "b.yaml"))


@pytest.fixture(scope="module")
def estate(saved: dict[str, list[Path]]) -> dict[str, Any]:
    result = run_import(
        "netbox", ImportRequest(tuple(map(str, saved["netbox4"]))), name="x", json_form=True
    )
    body: dict[str, Any] = json.loads(result.text)
    body["_warnings"] = [str(w) for w in result.warnings]
    return body


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in items}


def test_interfaces_give_switch_ports_with_their_modes(estate: dict[str, Any]) -> None:
    switches = _by_name(estate["switches"])
    assert set(switches) == {"tor1", "tor2"}  # named without the domain; the patch panel is none
    ports = _by_name(switches["tor1"]["ports"])
    assert ports["Ethernet1/1"] == {
        "name": "Ethernet1/1",
        "source": "dcim_interfaces.1.json dcim/interfaces/101",
        "mode": "trunk",
        "allowed": "10,20,110",
        "native": 1,  # no untagged VLAN: the vendor default, written out
    }
    assert ports["Ethernet1/2"]["allowed"] == "all" and ports["Ethernet1/2"]["native"] == 10
    assert ports["Ethernet1/3"] == {**ports["Ethernet1/3"], "mode": "access", "vlan": 110}
    # LAG members carry their LAG's VLANs; the LAG itself, the SVI, mgmt0 and a disabled port
    # are no switch ports
    assert ports["Ethernet1/10"]["allowed"] == "30" and ports["Ethernet1/10"]["native"] == 10
    assert not {"Port-Channel1", "Vlan10", "mgmt0", "Ethernet1/47"} & set(ports)
    assert [p["name"] for p in switches["tor1"]["ports"]][:3] == [
        "Ethernet1/1",
        "Ethernet1/2",
        "Ethernet1/3",
    ]  # in NetBox's order


def test_cables_give_links_and_host_nic_ports(estate: dict[str, Any]) -> None:
    assert estate["links"] == [["tor1:Ethernet1/48", "tor2:Ethernet1/48"]]
    hosts = _by_name(estate["hosts"])
    nics = _by_name(hosts["esx01"]["nics"])
    assert (nics["vmnic0"]["switch"], nics["vmnic0"]["port"]) == ("tor1", "Ethernet1/1")
    assert "switch" not in nics["vmnic1"]  # cabled to a patch panel only: never invented
    assert "iDRAC" not in nics  # out-of-band (mgmt_only) is not the hypervisor's
    xen = _by_name(hosts["xen01"]["nics"])
    assert (xen["eth0"]["port"], xen["eth1"]["port"]) == ("Ethernet1/10", "Ethernet1/11")
    # a device that is neither host nor switch, cabled to a switch port: an endpoint
    assert estate["endpoints"] == [
        {
            "name": "jumpbox1",
            "source": "dcim_interfaces.2.json dcim/interfaces/901",
            "switch": "tor1",
            "port": "Ethernet1/20",
            "address": "192.0.2.30/27",
        }
    ]


def test_clusters_give_hosts_and_their_hypervisor(estate: dict[str, Any]) -> None:
    hosts = _by_name(estate["hosts"])
    assert {n: h["hypervisor"] for n, h in hosts.items()} == {
        "esx01": "esxi",
        "esx02": "esxi",
        "hv01": "hyperv",
        "xen01": "xen",
    }
    assert (
        "virtualization_clusters.2.json virtualization/clusters/4: warning: cluster 'k8s' has "
        "type 'Kubernetes', not VMware, Hyper-V or Xen; its hosts and VMs are left out"
    ) in estate["_warnings"]
    assert "pod01" not in _by_name(estate["guests"])
    vmks = _by_name(hosts["esx01"]["management"])
    assert vmks["vmk0"] == {
        "name": "vmk0",
        "source": "dcim_interfaces.2.json dcim/interfaces/303",
        "portgroup": "vlan10",
        "address": "192.0.2.11/27",
    }
    assert hosts["hv01"]["vswitches"] == [
        {
            "name": "netbox",
            "source": "dcim_devices.1.json dcim/devices/5",
            "type": "external",
            "uplinks": ["NIC1"],
            "allow_management_os": True,
        }
    ]


def test_vms_and_their_interfaces_give_guests(estate: dict[str, Any]) -> None:
    guests = _by_name(estate["guests"])
    assert guests["web01"]["host"] == "esx01"
    assert guests["web01"]["nics"][0] == {
        "name": "eth0",
        "source": "virtualization_interfaces.1.json virtualization/interfaces/1",
        "portgroup": "vlan110",
        "mac": "00:50:56:a0:01:01",
        "address": ["198.51.100.11/26", "2001:db8:110::11/64"],
    }
    assert guests["ids01"]["nics"][0]["portgroup"] == "trunk-all"
    assert guests["trunk01"]["nics"][0]["portgroup"] == "trunk-20_110"
    pgs = _by_name(_by_name(estate["hosts"])["esx02"]["vswitches"][0]["portgroups"])
    assert pgs["trunk-20_110"]["vlan"] == {"trunk": "20,110"}
    assert guests["xen-vm01"]["nics"][0]["vlan"] == 30  # Xen: the VLAN on the NIC
    assert guests["hv-app01"]["nics"][0] == {
        "name": "Network Adapter",
        "source": "virtualization_interfaces.2.json virtualization/interfaces/6",
        "vswitch": "netbox",
        "mac": "00:15:5d:00:06:01",
    }
    assert guests["db01"]["host"] == "esx01"  # no device: the cluster's first host, warned
    assert any("1 VM of cluster 'prod-vsphere' without a device" in w for w in estate["_warnings"])


def test_tags_roles_and_vlan_names_drive_zone_rules(
    saved: dict[str, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "zones.yaml"
    rules.write_text(
        "rules:\n"
        "  - {zone: admin, tag: admin}\n"
        "  - {zone: security, tag: 'role=Sensor'}\n"
        "  - {zone: web, portgroup: web}\n"  # the VLAN's name in NetBox
        "  - {zone: apps, folder: xen-pool}\n"  # the cluster
        "  - {zone: ops, tag: 'owner=ops'}\n"  # a custom field
        "  - {zone: admin, tag: 'role=Jump server'}\n",  # a device's role: the endpoint
        encoding="utf-8",
    )
    out = tmp_path / "zoned.json"
    inputs = [str(p) for p in saved["netbox4"]]
    assert _import([*inputs, "--zones", str(rules), "-o", str(out)], capsys)[0] == 0
    zone = {g["name"]: g.get("zone") for g in json.loads(out.read_text())["guests"]}
    assert zone == {
        "db01": "web",
        "hv-app01": "ops",
        "ids01": "security",
        "jump01": "admin",
        "trunk01": "web",
        "web01": "web",
        "xen-vm01": "apps",
    }
    endpoints = json.loads(out.read_text())["endpoints"]
    assert [(e["name"], e["zone"]) for e in endpoints] == [("jumpbox1", "admin")]


def test_check_finds_what_the_estate_was_shaped_for(
    saved: dict[str, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dc1.json"
    assert _import([*map(str, saved["netbox4"]), "-o", str(out)], capsys)[0] == 0
    main(["check", "--format", "json", str(out)])
    found = {(f["rule"], f["subject"]) for f in json.loads(capsys.readouterr().out)["findings"]}
    assert {
        ("guest-on-management-segment", "guest:jump01/eth0"),  # VLAN 10, as vmk0
        ("guest-can-tag-management-vlan", "guest:ids01/eth0"),  # tagged-all
        # esx02's uplink port carries the management VLAN untagged and guests tagged
        ("native-vlan-carries-guests", "switch:tor1/Ethernet1/2"),
        ("native-vlan-1", "switch:tor1/Ethernet1/48"),
        ("upstream-unmodelled", "nic:esx01/vmnic1"),
    } <= found
    # the cabled NICs are on the modelled switches
    assert ("upstream-unmodelled", "nic:esx01/vmnic0") not in found


def test_pynetbox_samples_of_the_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"the shared corpus ({SAMPLES}) is not present")
    out = tmp_path / "samples.yaml"
    code, _, err = _import([*map(str, sorted(SAMPLES.glob("*.json"))), "-o", str(out)], capsys)
    assert code == 0, err
    _golden("pynetbox-samples.yaml", out.read_text(encoding="utf-8"))
    _golden("pynetbox-samples.warnings.txt", _warnings(err))
    assert main(["validate", str(out)]) == 0
    # 2.x names: form_factor, mode {value, label, id}; the VLANs by vid; a VM on a device that
    # is no host read is warned about
    assert '- {name: et-0/0/0, mode: trunk, allowed: "1210", native: 2069}' in out.read_text()


# --- live, through pynetbox ---------------------------------------------------------------------


class _NetBox(BaseHTTPRequestHandler):
    """Serves the saved pages as NetBox serves its API: ``?limit=0`` is the first page, the
    ``next`` links point back at this server; a wrong token is refused with 403."""

    pages: ClassVar[dict[tuple[str, int], dict[str, Any]]] = {}
    seen_tokens: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        auth = self.headers.get("Authorization", "")
        self.seen_tokens.append(auth)
        if auth != f"Token {TOKEN}":
            self._send(403, {"detail": "Invalid token"})
            return
        endpoint = url.path.strip("/").removeprefix("api/")
        offset = int(parse_qs(url.query).get("offset", ["0"])[0])
        page = self.pages.get((endpoint, offset))
        if page is None:
            self._send(404, {"detail": "Not found."})
            return
        self._send(200, page)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("API-Version", "4.2")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def netbox_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NetBox)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    pages = {}
    for endpoint, items in fx.estate().items():
        size = max(1, (len(items) + 1) // 2)
        for n, page in enumerate(fx.pages(endpoint, items, size)):
            text = json.dumps(page).replace(fx.BASE, url)
            pages[(endpoint, n * size)] = json.loads(text)
    _NetBox.pages = pages
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    server.server_close()


def test_live_import_through_pynetbox_reads_the_same_estate(
    netbox_server: str,
    saved: dict[str, list[Path]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NETSEG_NETBOX_TOKEN", TOKEN)
    out = tmp_path / "live.yaml"
    code, _, err = _import(["--url", netbox_server, "-o", str(out)], capsys)
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert "# netbox dcim/devices/1" in text  # provenance: the API object
    assert TOKEN not in text and TOKEN not in err
    files = run_import("netbox", ImportRequest(tuple(map(str, saved["netbox4"]))), name="live")
    assert dumps(loads(text, "live.yaml")) == dumps(loads(files.text, "files.yaml"))
    assert f"Token {TOKEN}" in _NetBox.seen_tokens  # the token went to NetBox, and nowhere else


def test_live_import_with_a_wrong_token_is_one_message(
    netbox_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "ffffffffffffffffffffffffffffffffffffffff"
    monkeypatch.setenv("NETSEG_NETBOX_TOKEN", secret)
    out = tmp_path / "live.yaml"
    code, stdout, err = _import(["--url", netbox_server, "-o", str(out)], capsys)
    assert code == 2
    assert (
        f"{netbox_server}/api/dcim/devices/: NetBox answered HTTP 403 (is NETSEG_NETBOX_TOKEN a "
        "valid token?)"
    ) in err
    assert secret not in err + stdout and "Traceback" not in err and not out.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://127.0.0.1:1",
            "--url: cannot reach NetBox at http://127.0.0.1:1: connection refused",
        ),
        ("not a url", "--url: 'not a url' is not an http:// or https:// address"),
    ],
)
def test_an_unreachable_netbox_is_one_message_exit_2(
    url: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NETSEG_NETBOX_TOKEN", TOKEN)
    out = tmp_path / "live.yaml"
    code, stdout, err = _import(["--url", url, "-o", str(out)], capsys)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert TOKEN not in err + stdout and not out.exists()


def test_url_without_a_token_and_no_terminal_is_one_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NETSEG_NETBOX_TOKEN", raising=False)
    code, _, err = _import(["--url", "http://127.0.0.1:1"], capsys)
    assert code == 2
    assert "NETSEG_NETBOX_TOKEN: is not set, and standard input is not a terminal" in err


# --- bad inputs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"Name": "vSwitch0", "SwitchType": 2}',
            "result 0 is not a NetBox object of the endpoints read",
        ),
        ('[{"count": 1}', "not JSON ("),
        ('"just text"', "expected NetBox API JSON: a page, a list or an object"),
        ('{"count": 1, "next": null, "results": [3]}', "result 0 is not a JSON object"),
    ],
)
def test_json_from_another_command_is_one_message_exit_2(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.json"
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "out.yaml"
    code, stdout, err = _import([str(path), "-o", str(out)], capsys)
    assert code == 2
    assert f"{path}: {message}" in err
    assert err.count("\n") == 1 and "Traceback" not in err and not out.exists() and stdout == ""
