"""The capture tests that read, decode or group frames run on both paths: the compiled kernel
(``netseg.capture._fastwalk``) and the numpy fallback (``netseg.capture.native``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from netseg.capture import native


@pytest.fixture(scope="module", params=["native", "numpy"])
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which path the module's tests run on; ``native`` is skipped when it is not built."""
    if request.param == "native" and not native.built():
        pytest.skip(f"the compiled capture kernel is not built ({native.why_not()})")
    with native.forced(request.param == "native"):
        yield request.param
