"""The orjson writer gives the bytes ``json.dumps(indent=2)`` gives: the replay JSON contract."""

from __future__ import annotations

import json
from typing import Any

import pytest

from netseg.render.jsontext import _odd_floats, dumps_indent2, iter_document

TRICKY: list[Any] = [
    {"a": [], "b": {}, "c": [1, {"x": None, "y": True, "z": False}]},
    'café ☃ 😀 \x7f \x00\x1f\b\f\n\r\t \\ " /',
    [0.0, -0.0, 2.5, 1700000000.123456, 1e16, 1.2345678901234568e17, 1e22],
    [1e-4, 1e-5, -1e-5, 1.5e-7, 3e-9, 1e-10, 5e-324],  # where orjson and Python differ
    [1700000000.000053, 12.00001, 100.00000123, [5e-5, 0.00009]],  # "0.0000" inside a number
    {"zone-6": "observed-zone-violation", "addr": "2001:db8::1e5", "n": "1e-5 0.00001"},
    float("nan"),
    [float("inf"), -float("inf")],
    "\ud800 lone surrogate",
    2**70,
    {1: "int key", "b": 2},
    [],
    {},
]


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_same_bytes_as_json_dumps(value: Any) -> None:
    for ascii_only in (True, False):
        expected = json.dumps(value, indent=2, ensure_ascii=ascii_only)
        assert dumps_indent2(value, ascii_only) == expected.encode("utf-8", "surrogatepass")


def _conversation(i: int) -> dict[str, Any]:
    return {
        "vlan": i % 7 or None,
        "src": f"host-{i}/vm-é{i}",
        "first": 1_700_000_000 + i / 7,
        "frames": [i, 3 * i],
        "sample_frames": [{"file": "a.pcap", "frame": i}],
        "rules": [] if i % 2 else ["observed-zone-violation"],
    }


@pytest.mark.parametrize("count", [0, 1, 1999, 2000, 2001, 4500])
def test_streamed_document_is_the_whole_document(count: int) -> None:
    head = {"netseg": "1.0.0", "files": [{"file": "a.pcap", "frames": count}], "summary": {}}
    tail = {"findings": [{"rule": "x", "evidence": {"t": 1e-05}}]}
    items = [_conversation(i) for i in range(count)]
    whole = {**head, "conversations": items, **tail}
    streamed = b"".join(iter_document(head, {"conversations": iter(items)}, tail))
    assert streamed == json.dumps(whole, indent=2).encode()


def test_empty_document() -> None:
    assert b"".join(iter_document({}, {})) == json.dumps({}, indent=2).encode()


def test_capture_timestamps_take_the_fast_encoder() -> None:
    # a timestamp such as 1700000000.000053 holds "0.0000" but orjson writes it as Python does;
    # treating it as odd sent about one replay batch in three to the pure-Python encoder
    assert not _odd_floats(b'{"first": 1700000000.000053, "last": 1700000012.00001}')
    assert _odd_floats(b'{"t": 0.00005}') and _odd_floats(b"[-0.00001]")
