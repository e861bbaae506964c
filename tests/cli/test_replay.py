"""netseg replay --workers N and --scheduler ADDRESS: the same output as one worker; clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from netseg.cli.main import main
from tests.capture.test_parallel import long_examples
from tests.conftest import REPO

TOPOLOGY = str(REPO / "topologies" / "esxi-cluster.yaml")
AT = ["--at", "tor1:Eth1/11"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["replay", TOPOLOGY, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"not a capture at all")
    return [*map(str, long_examples(tmp_path)), str(garbage)]


def test_workers_give_the_output_of_one_worker(
    files: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    one = run([*files, *AT, "--format", "json", "--all-conversations"], capsys)
    assert one[0] == 2 and "garbage.pcap" in one[2]
    for workers in ("2", "3"):
        got = run(
            [*files, *AT, "--format", "json", "--all-conversations", "--workers", workers], capsys
        )
        assert got == one
    text = run([*files, *AT, "--workers", "1"], capsys)
    assert run([*files, *AT, "--workers", "2"], capsys) == text


def test_workers_stop_when_the_topology_cannot_be_loaded(
    files: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    capsys.readouterr()
    code = main(["replay", str(tmp_path / "missing.yaml"), *files, "--workers", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err


def test_scheduler_on_a_local_cluster(files: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    one = run([*files, *AT, "--format", "json"], capsys)
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as cluster:
        got = run(
            [*files, *AT, "--format", "json", "--scheduler", cluster.scheduler_address], capsys
        )
    assert got == one


def test_unreachable_scheduler(files: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    code, out, err = run([*files, "--scheduler", "tcp://127.0.0.1:1"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("netseg: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
    assert len(err.splitlines()) == 1


def test_scheduler_without_dask(
    files: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    code, out, err = run([*files, "--scheduler", "tcp://127.0.0.1:8786"], capsys)
    assert code == 2 and out == ""
    assert "pip install 'dask[distributed]'" in err and len(err.splitlines()) == 1
