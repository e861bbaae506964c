"""Shared test helpers: paths to the repository's data and the shared corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests on a fixed sequence of examples, so a red build is reproducible
# and never depends on the draw; local runs keep exploring new examples (and keep any they
# find failing in .hypothesis/).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
TOPOLOGIES = REPO / "topologies"
CAPTURES = REPO / "captures"
# ../shared next to the checkout; NETSEG_SHARED points elsewhere (a git worktree one level deeper)
SHARED = Path(os.environ.get("NETSEG_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"


def example_topologies() -> list[Path]:
    return sorted(TOPOLOGIES.glob("*.yaml"))


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus (../shared/corpus) is not present")
    return CORPUS
