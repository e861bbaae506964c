"""netseg: virtual-network segmentation analyser for type 1 hypervisors.

Who can reach the privileged domain (Xen dom0, the ESXi vmkernel, the Hyper-V management OS),
in a design and in real traffic::

    import netseg

    topology = netseg.load("topologies/esxi-cluster.yaml")   # raises netseg.TopologyError
    analysis = netseg.analyse(topology)                       # every design finding
    result = netseg.replay(topology, ["captures/esxi-incident.pcap"], at="tor1:Eth1/11")
    netseg.assert_no_findings(analysis, severity_at_least="high")   # in a test suite

The public names are listed in ``__all__`` (tests/test_exported_members.py holds it to the
intended list); everything else is internal. The names whose modules pull in the graph, the
rules or the capture reader are imported on first use, so ``import netseg`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from netseg.errors import (
    CaptureError,
    NetsegError,
    Problem,
    RenderError,
    SchedulerError,
    SelectorError,
    TopologyError,
)

if TYPE_CHECKING:
    from netseg.analysis import Analysis, analyse, load, loads
    from netseg.assertions import NetsegAssertWarning, assert_isolated, assert_no_findings
    from netseg.capture.judge import ReplayResult
    from netseg.capture.replay import replay
    from netseg.model import Location, ServiceSet, Severity, Topology, VlanSet
    from netseg.rules.finding import Finding
    from netseg.topology import json_schema

__version__ = "1.0.0"

# public name -> the module that defines it (imported on first use)
_LAZY = {
    "Analysis": "netseg.analysis",
    "Finding": "netseg.rules.finding",
    "NetsegAssertWarning": "netseg.assertions",
    "ReplayResult": "netseg.capture.judge",
    "analyse": "netseg.analysis",
    "assert_isolated": "netseg.assertions",
    "assert_no_findings": "netseg.assertions",
    "load": "netseg.analysis",
    "loads": "netseg.analysis",
    "replay": "netseg.capture.replay",
    # the model and the topology loader too: `netseg --version` and a replay's first read
    # wait for neither
    **dict.fromkeys(("Location", "ServiceSet", "Severity", "Topology", "VlanSet"), "netseg.model"),
    "json_schema": "netseg.topology",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'netseg' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Analysis",
    "CaptureError",
    "Finding",
    "Location",
    "NetsegAssertWarning",
    "NetsegError",
    "Problem",
    "RenderError",
    "ReplayResult",
    "SchedulerError",
    "SelectorError",
    "ServiceSet",
    "Severity",
    "Topology",
    "TopologyError",
    "VlanSet",
    "__version__",
    "analyse",
    "assert_isolated",
    "assert_no_findings",
    "json_schema",
    "load",
    "loads",
    "replay",
]
