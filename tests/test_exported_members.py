"""The public API is exactly the intended names (as httpx's tests/test_exported_members.py).

A name added to ``netseg/__init__.py`` without a decision, or one that disappears, fails here.
"""

from __future__ import annotations

import netseg

INTENDED = {
    # loading and the format
    "load",
    "loads",
    "json_schema",
    # analyses and their results
    "analyse",
    "Analysis",
    "replay",
    "ReplayResult",
    "Finding",
    # test-suite helpers
    "assert_isolated",
    "assert_no_findings",
    "NetsegAssertWarning",
    # domain values
    "Location",
    "ServiceSet",
    "Severity",
    "Topology",
    "VlanSet",
    # errors
    "NetsegError",
    "TopologyError",
    "CaptureError",
    "SelectorError",
    "RenderError",
    "SchedulerError",
    "Problem",
    "__version__",
}


def test_all_is_exactly_the_intended_public_names() -> None:
    assert set(netseg.__all__) == INTENDED
    assert len(netseg.__all__) == len(set(netseg.__all__))


def test_every_public_name_resolves_and_is_defined_in_the_package() -> None:
    for name in netseg.__all__:
        value = getattr(netseg, name)
        if name != "__version__":
            assert getattr(value, "__module__", "").startswith("netseg."), name


def test_unknown_names_raise_attribute_error() -> None:
    try:
        netseg.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("netseg.no_such_name resolved")


def test_the_documented_entry_points_work_together() -> None:
    from tests.conftest import CAPTURES, TOPOLOGIES

    topology = netseg.load(TOPOLOGIES / "esxi-cluster.yaml")
    analysis = netseg.analyse(topology)
    assert isinstance(analysis, netseg.Analysis) and analysis.findings
    result = netseg.replay(topology, [str(CAPTURES / "esxi-incident.pcap")], at="tor1:Eth1/11")
    assert isinstance(result, netseg.ReplayResult) and result.findings
    assert netseg.assert_no_findings(topology, rule="reserved-vlan")
    assert issubclass(netseg.SchedulerError, netseg.NetsegError)
