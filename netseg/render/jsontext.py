"""Indented JSON through orjson, byte for byte what ``json.dumps(value, indent=2)`` writes.

``json.dumps`` with an indent encodes in pure Python (its C encoder only writes compact JSON):
1.6 s of a 1.9 s replay of 20,000 conversations. orjson writes the same layout (two spaces,
``": "`` and ``","`` separators, ``[]`` and ``{}`` for empty containers) in C; where the two
differ, the standard library's text is restored or used:

* ``ensure_ascii`` (the default of ``json.dumps``): orjson writes UTF-8 and DEL as they are;
  every such character (they only ever occur inside strings) is escaped afterwards as json
  escapes it (``\\u00e9``, a surrogate pair above U+FFFF);
* floats: orjson writes ``0.00001`` and ``1.5e-7`` where Python writes ``1e-05`` and
  ``1.5e-07``; output holding a number with an exponent or below 0.001 is encoded by
  ``json.dumps`` instead (timestamps since 1970 never are);
* anything orjson refuses (a lone surrogate, an integer beyond 64 bits, a non-string key)
  and NaN or infinities (which orjson writes as ``null``) are encoded by ``json.dumps`` too.

:func:`iter_document` writes a top-level object whose large lists are produced lazily, item
by item in bounded batches, with the same bytes as the whole document at once.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

import orjson

__all__ = ["dumps_indent2", "iter_document"]

# where orjson's floats differ from Python's (every exponent from -30 to 30 compared): below
# 1e-4 only, written "0.0000..." down to 1e-5 and with a one-digit negative exponent below
_NEG_EXP = re.compile(rb"e-[1-9](?![0-9])")
# a number below 1e-4 starts with "0.0000"; inside a larger one (a timestamp such as
# 1700000000.000053) the zero follows a digit and orjson writes what Python writes
_TINY = re.compile(rb"(?<![0-9])0\.0000")
_DIGITS = frozenset(b"0123456789")
_NON_ASCII = re.compile(r"[^\x00-\x7e]")
_BATCH = 2000


def _escape(m: re.Match[str]) -> str:
    n = ord(m.group())
    if n > 0xFFFF:
        n -= 0x10000
        return f"\\u{0xD800 | (n >> 10):04x}\\u{0xDC00 | (n & 0x3FF):04x}"
    return f"\\u{n:04x}"


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(v) for v in value)
    return False


def _fast(value: Any) -> bytes | None:
    try:
        out = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except (TypeError, orjson.JSONEncodeError):
        return None
    if _odd_floats(out) or (b"null" in out and _has_non_finite(value)):
        return None
    return out


def _odd_floats(out: bytes) -> bool:
    """Whether ``out`` may hold a float that Python writes otherwise (a string that looks like
    one only costs the slower, exact encoding)."""
    if _TINY.search(out):
        return True
    return any(m.start() and out[m.start() - 1] in _DIGITS for m in _NEG_EXP.finditer(out))


def dumps_indent2(value: Any, ensure_ascii: bool = True) -> bytes:
    """``json.dumps(value, indent=2, ensure_ascii=ensure_ascii).encode()``, faster."""
    out = _fast(value)
    if out is None:
        return json.dumps(value, indent=2, ensure_ascii=ensure_ascii).encode(
            "utf-8", "surrogatepass"
        )
    if ensure_ascii and (not out.isascii() or b"\x7f" in out):
        return _NON_ASCII.sub(_escape, out.decode("utf-8")).encode("ascii")
    return out


def _nested(value: Any, ensure_ascii: bool, depth: int) -> bytes:
    """``value`` as it appears ``depth`` levels inside an indented document."""
    text = dumps_indent2(value, ensure_ascii)
    return text.replace(b"\n", b"\n" + b"  " * depth) if depth else text


def iter_document(
    head: Mapping[str, Any],
    lazy: Mapping[str, Iterable[Any]],
    tail: Mapping[str, Any] | None = None,
    ensure_ascii: bool = True,
) -> Iterator[bytes]:
    """The bytes of ``dumps_indent2({**head, **lazy-as-lists, **tail})``, the lazy lists'
    items encoded a batch at a time, so that only one batch of them is ever held."""
    yield b"{"
    first = True

    def key(name: str) -> bytes:
        nonlocal first
        sep = b"\n  " if first else b",\n  "
        first = False
        return sep + dumps_indent2(name, ensure_ascii) + b": "

    for name, value in head.items():
        yield key(name) + _nested(value, ensure_ascii, 1)
    for name, items in lazy.items():
        it = iter(items)
        opened = False
        while batch := list(islice(it, _BATCH)):
            body = _nested(batch, ensure_ascii, 1)  # "[\n    item,\n    item\n  ]"
            if not opened:
                yield key(name) + body[:-4]
                opened = True
            else:
                yield b",\n    " + body[6:-4]
        yield b"\n  ]" if opened else key(name) + b"[]"
    for name, value in (tail or {}).items():
        yield key(name) + _nested(value, ensure_ascii, 1)
    yield b"\n}" if not first else b"}"
