"""The indented JSON writer of ``check --format json`` writes exactly what the standard
library would (users diff and parse these reports; only the speed may differ)."""

from __future__ import annotations

import json
from enum import StrEnum
from ipaddress import IPv4Address

from hypothesis import given
from hypothesis import strategies as st

from netseg.render.findings_json import dumps_indented

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(KEYS, inner, max_size=5)
    ),
    max_leaves=40,
)


def standard(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@given(VALUES)
def test_same_text_as_the_standard_encoder(value: object) -> None:
    assert dumps_indented(value) == standard(value)


class Colour(StrEnum):
    RED = "red"


def test_subclasses_and_other_objects_encode_as_the_standard_encoder_does() -> None:
    value = {
        "colour": Colour.RED,
        "address": IPv4Address("192.0.2.1"),
        "nested": [{"a": [True, None, 1.5, 'é\n"x"'], "b": {}}, [], ("t",)],
        1: float("nan"),
    }
    assert dumps_indented(value) == standard(value)
