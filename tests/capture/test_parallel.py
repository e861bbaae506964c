"""Reading split by file and by chunk of file: identical to one sequential read, whatever the split.

In-process with forced chunk sizes (many splits, fast), on worker processes, and on a Dask
``LocalCluster``; plus the scheduler's error paths.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netseg.capture.accounting import CaptureTables, tabulate_file
from netseg.capture.parallel import plan, start_tabulation, tabulate
from netseg.capture.reader import CaptureReader, capture_files, spans
from netseg.capture.replay import replay
from netseg.errors import SchedulerError
from netseg.render.replay import replay_document
from netseg.topology import load
from tests.capture.frames import SAMPLES, reply_tcp, tcp
from tests.capture.helpers import pcap_bytes, pcapng_section, write
from tests.conftest import REPO

KINDS = list(SAMPLES.values())


def one_sequential_read(paths: list[Path]) -> CaptureTables:
    """The reference: every file read whole, one after another, folded with ``update`` (none
    of the planning, spans or merging under test)."""
    result = CaptureTables()
    for i, path in enumerate(capture_files(paths)):
        part = tabulate_file(path, i)
        if not result.files:
            result = part
            continue
        result.files.extend(part.files)
        result.conversations.update(part.conversations)
        result.events.update(part.events)
    return result


def frames(n: int, seed: int = 0) -> list[bytes]:
    """A mix: every sample kind, TCP exchanges over many ports and VLANs, a few cut frames."""
    out: list[bytes] = []
    for i in range(n):
        k = (i * 7 + seed) % 10
        if k < 4:
            out.append(tcp("S" if i % 3 else "A", 40000 + i % 50, 443 + i % 4, 10 + i % 3))
        elif k < 7:
            out.append(reply_tcp("SA", 443 + i % 4, 40000 + i % 50, 10 + i % 3))
        elif k < 9:
            out.append(KINDS[(i + seed) % len(KINDS)])
        else:
            out.append(KINDS[i % len(KINDS)][: 10 + i % 30])  # undecodable, mostly
    return out


def pcap_records(data: list[bytes], **kw: bool) -> bytes:
    return pcap_bytes(
        [(1_700_000_000_000_000_000 + i * 1_000_000, f) for i, f in enumerate(data)], **kw
    )


def pcapng_file(data: list[bytes]) -> bytes:
    """Two sections (little then big endian), several interfaces and link types, resolutions."""
    half = len(data) // 2
    first = pcapng_section(
        [(1, 6), (1, 9), (147, 6)],
        [(i % 3, 1_700_000_000_000_000 + i, f) for i, f in enumerate(data[:half])],
    )
    second = pcapng_section(
        [(1, 9), (101, 6)],
        [
            (i % 2, 1_700_000_000_000_000_000 + i, f if i % 2 == 0 else f[18:] or f)
            for i, f in enumerate(data[half:])
        ],
        big_endian=True,
    )
    return first + second


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("parallel")
    cut = pcap_records(frames(700, 1))
    return [
        write(d / "a.pcap", cut + cut[24:60]),  # the last record is cut short
        write(d / "b.pcapng", pcapng_file(frames(500, 2)) + b"\x06\x00\x00\x00\x40\x00"),
        write(d / "c.pcap.gz", pcap_records(frames(300, 3)), compress=True),
        write(d / "d.pcap", pcap_records(frames(400, 4), big_endian=True, nanoseconds=True)),
    ]


def snapshot(t: CaptureTables) -> tuple[object, ...]:
    return (t.files, list(t.conversations.conversations()), list(t.events.events()))


def test_spans_read_back_as_one_sequential_read(captures: list[Path]) -> None:
    for path in (captures[0], captures[1], captures[3]):
        whole = CaptureReader(path)
        expected = [
            (int(f), int(o))
            for b in whole.batches()
            for f, o in zip(b.frame_no, b.origlen, strict=True)
        ]
        parts = spans(path, 7)
        assert len(parts) == 7
        assert [p.end for p in parts[:-1]] == [p.start for p in parts[1:]]
        got: list[tuple[int, int]] = []
        flags = []
        for span in parts:
            reader = CaptureReader(path, span=span)
            batch_frames = [
                (int(f), int(o))
                for b in reader.batches()
                for f, o in zip(b.frame_no, b.origlen, strict=True)
            ]
            assert batch_frames[0][0] == span.first_frame
            got += batch_frames
            flags.append((reader.cut_short, reader.damage))
        assert got == expected
        assert flags[:-1] == [(False, None)] * 6
        assert flags[-1] == (whole.cut_short, whole.damage)
    assert spans(captures[2], 4) == []  # compressed: read whole


@pytest.mark.parametrize("chunk_bytes", [1024, 3000, 9000, 40_000, 10**9])
def test_any_split_gives_the_tables_of_one_read(captures: list[Path], chunk_bytes: int) -> None:
    tasks = plan(captures, chunk_bytes=chunk_bytes)
    if chunk_bytes < 10_000:
        assert len(tasks) > 2 * len(captures)
    assert [t.index for t in tasks] == sorted(t.index for t in tasks)
    assert snapshot(tabulate(captures, chunk_bytes=chunk_bytes)) == snapshot(
        one_sequential_read(captures)
    )
    one = tabulate(captures[1:2], chunk_bytes=chunk_bytes)  # pcapng alone
    assert snapshot(one) == snapshot(one_sequential_read(captures[1:2]))


def test_damage_ends_the_file_at_the_same_frame(tmp_path: Path) -> None:
    data = pcap_records(frames(600, 5))
    at = 24 + sum(16 + len(f) for f in frames(600, 5)[:450])
    bad = data[:at] + struct.pack("<IIII", 1, 0, 300_000, 300_000) + data[at + 16 :]
    epb_bad = pcapng_file(frames(400, 6))
    first_epb = epb_bad.index(b"\x06\x00\x00\x00", len(epb_bad) // 3)
    epb_bad = epb_bad[: first_epb + 8] + struct.pack("<I", 9) + epb_bad[first_epb + 12 :]
    files = [write(tmp_path / "bad.pcap", bad), write(tmp_path / "bad.pcapng", epb_bad)]
    seq = one_sequential_read(files)
    assert seq.files[0].damage and seq.files[0].frames == 450
    assert seq.files[1].damage
    for chunk in (1024, 5000):
        assert snapshot(tabulate(files, chunk_bytes=chunk)) == snapshot(seq)


def test_an_unreadable_file_is_one_error(tmp_path: Path, captures: list[Path]) -> None:
    files = [captures[0], tmp_path / "missing.pcap", write(tmp_path / "x.pcap", b"hello world")]
    got = tabulate(files, chunk_bytes=2000)
    assert snapshot(got) == snapshot(one_sequential_read(files))
    assert [bool(f.error) for f in got.files] == [False, True, True]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(1, 300), seed=st.integers(0, 50), parts=st.integers(2, 9))
def test_random_captures_and_splits(tmp_path: Path, n: int, seed: int, parts: int) -> None:
    path = write(tmp_path / f"r{n}-{seed}.pcap", pcap_records(frames(n, seed)))
    size = path.stat().st_size
    assert snapshot(tabulate([path], chunk_bytes=max(1, size // parts))) == snapshot(
        one_sequential_read([path])
    )


def test_worker_processes_give_the_same_tables(captures: list[Path]) -> None:
    expected = snapshot(one_sequential_read(captures))
    assert snapshot(tabulate(captures, workers=2)) == expected
    assert snapshot(tabulate(captures, workers=2, chunk_bytes=4000)) == expected
    seen: list[int] = []
    with start_tabulation(captures, 3, chunk_bytes=5000) as pending:
        assert snapshot(pending.result(seen.append)) == expected
    assert sum(seen) == sum(f.frames for f in expected[0])  # type: ignore[attr-defined]


def test_closing_unfinished_reading_stops_the_workers(captures: list[Path]) -> None:
    pending = start_tabulation(captures, 2, chunk_bytes=2000)
    pending.close()
    pending.close()


def test_large_files_are_split_only_when_whole_files_do_not_share_out() -> None:
    from netseg.capture.parallel import MIN_CHUNK, _pieces

    big = 8 * MIN_CHUNK
    assert _pieces([big] * 4, 2, None) == [1, 1, 1, 1]
    assert _pieces([big], 2, None) == [4]
    assert _pieces([big, big, big], 2, None) == [2, 2, 2]
    assert _pieces([big, 1000], 1, None) == [1, 1]
    assert _pieces([MIN_CHUNK, 10], 2, None) == [1, 1]


# --- Dask ---------------------------------------------------------------------------------


def test_dask_local_cluster_gives_the_same_tables(captures: list[Path]) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as cluster:
        got = tabulate(captures, scheduler=cluster.scheduler_address, chunk_bytes=4000)
    assert snapshot(got) == snapshot(one_sequential_read(captures))


def test_unreachable_scheduler_is_a_clear_error(captures: list[Path]) -> None:
    pytest.importorskip("distributed")
    with pytest.raises(
        SchedulerError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:1"
    ):
        tabulate(captures, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(SchedulerError, match="expected tcp://HOST:PORT"):
        tabulate(captures, scheduler="nowhere")


def test_without_dask_the_message_says_how_to_install_it(
    captures: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(SchedulerError, match=r"pip install 'dask\[distributed\]'"):
        tabulate(captures, scheduler="tcp://127.0.0.1:8786")


# --- replay: findings and JSON ------------------------------------------------------------

TOPOLOGY = "topologies/esxi-cluster.yaml"


def long_examples(tmp_path: Path) -> list[Path]:
    """The example captures, their records repeated: large enough to split into many chunks.
    (The pcapng repeats whole sections: one file of many sections, each with its interfaces.)"""
    incident = (REPO / "captures" / "esxi-incident.pcap").read_bytes()
    management = (REPO / "captures" / "esxi-management.pcapng").read_bytes()
    return [
        write(tmp_path / "incident.pcap", incident + incident[24:] * 15 + incident[24:70]),
        write(tmp_path / "management.pcapng", management * 12),
    ]


def test_replay_results_do_not_depend_on_the_split(tmp_path: Path) -> None:
    files = long_examples(tmp_path)
    topology = load(REPO / TOPOLOGY)
    at = "tor1:Eth1/11"
    expected = replay_document(replay(topology, files, at=at), all_conversations=True)
    assert expected["findings"]
    for chunk in (1100, 4000):
        with start_tabulation(files, 1, chunk_bytes=chunk) as pending:
            assert len(pending.tasks) > 4
            got = replay(topology, files, at=at, tables=pending)
        assert replay_document(got, all_conversations=True) == expected
    with start_tabulation(files, 2, chunk_bytes=2000) as pending:
        got = replay(topology, files, at=at, tables=pending)
    assert replay_document(got, all_conversations=True) == expected
    two = replay(topology, files, at=at, workers=2)  # the library starts its own workers
    assert replay_document(two, all_conversations=True) == expected


def test_a_dask_worker_without_netseg_is_a_clear_error(
    captures: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed")
    import netseg.capture.parallel as parallel

    def missing(task: object) -> CaptureTables:
        raise ModuleNotFoundError("No module named 'netseg'")

    monkeypatch.setattr(parallel, "run_task", missing)
    with (
        distributed.LocalCluster(
            processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        pytest.raises(SchedulerError, match="a Dask worker cannot run netseg"),
    ):
        tabulate(captures[:1], scheduler=cluster.scheduler_address)
