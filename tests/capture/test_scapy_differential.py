"""Field-for-field agreement with scapy on every Ethernet frame of every capture we have.

Covers the handcrafted samples, <repo>/captures/, and the shared corpus (pcaps/ and robustness/,
skipped when absent). The frames are decoded by the bulk decoder (the code path replay uses) and
compared with scapy's own dissection for every layer scapy decodes; the deliberate differences
are listed in tests/capture/scapy_reference.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netseg.capture.decode import FrameFacts, Undecodable, decode_batch
from netseg.capture.reader import CaptureReader, capture_files
from netseg.errors import CaptureError
from tests.capture.frames import SAMPLES
from tests.capture.scapy_reference import ours_view, scapy_view
from tests.capture.test_decode import batch_of
from tests.conftest import CAPTURES, CORPUS

# every test here on both capture paths: the compiled kernel and numpy (conftest.kernel)
pytestmark = pytest.mark.usefixtures("kernel")

# Fields that precede the IP header: still compared when netseg finds a later header cut short.
_L2 = {"dst_mac", "src_mac", "tags"}
_L3 = {"src_ip", "dst_ip", "proto", "later_fragment"}


def _compare(label: str, facts: FrameFacts | Undecodable | None, data: bytes) -> list[str]:
    if facts is None or isinstance(facts, Undecodable):
        # netseg stops at a cut or malformed header where scapy may guess on: not compared.
        return []
    ref = scapy_view(data)
    mine = ours_view(facts, set(ref))
    return [
        f"{label}: {k}: netseg {mine[k]!r} != scapy {ref[k]!r}" for k in ref if mine[k] != ref[k]
    ]


def test_samples_agree_with_scapy() -> None:
    frames = list(SAMPLES.items())
    d = decode_batch(batch_of([f for _, f in frames]))
    problems = [p for i, (name, f) in enumerate(frames) for p in _compare(name, d.facts(i), f)]
    assert problems == []


def _corpus_files() -> list[Path]:
    roots = [CAPTURES, CORPUS / "pcaps", CORPUS / "robustness"]
    files = [f for r in roots if r.is_dir() for f in sorted(r.rglob("*")) if f.is_file()]
    return [f for f in capture_files(files) if f.suffix != ".md"]


@pytest.mark.slow
def test_every_corpus_frame_agrees_with_scapy() -> None:
    files = _corpus_files()
    if not files:
        pytest.skip("no captures under captures/ or the shared corpus")
    problems: list[str] = []
    compared = 0
    for path in files:
        try:
            for batch in CaptureReader(path).batches():
                d = decode_batch(batch)
                for i in range(len(batch)):
                    if int(batch.linktype[i]) != 1:
                        continue
                    compared += 1
                    label = f"{path.name}#{int(batch.frame_no[i])}"
                    problems += _compare(label, d.facts(i), batch.frame_bytes(i))
        except CaptureError:
            continue
    assert compared > 0
    assert problems == [], "\n".join(problems[:40])
