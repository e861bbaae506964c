"""netseg: virtual-network segmentation analyser for type 1 hypervisors.

Who can reach the privileged domain (Xen dom0, the ESXi vmkernel, the Hyper-V management OS),
in a design and in real traffic::

    import netseg

    topology = netseg.load("topologies/esxi-cluster.yaml")   # raises netseg.TopologyError
    print(topology.name, len(topology.guests))

    result = netseg.replay(topology, ["captures/esxi-incident.pcap"], at="tor1:Eth1/11")

The public names are listed in ``__all__``; everything else is internal.
"""

from typing import TYPE_CHECKING, Any

from netseg.errors import (
    CaptureError,
    NetsegError,
    Problem,
    RenderError,
    SelectorError,
    TopologyError,
)
from netseg.model import Location, ServiceSet, Severity, Topology, VlanSet
from netseg.topology import json_schema, load, loads

if TYPE_CHECKING:
    from netseg.capture.replay import replay

__version__ = "1.0.0"

__all__ = [
    "CaptureError",
    "Location",
    "NetsegError",
    "Problem",
    "RenderError",
    "SelectorError",
    "ServiceSet",
    "Severity",
    "Topology",
    "TopologyError",
    "VlanSet",
    "__version__",
    "json_schema",
    "load",
    "loads",
    "replay",
]


def __getattr__(name: str) -> Any:
    # the capture package is imported on first use: `netseg check` does not need it
    if name == "replay":
        from netseg.capture.replay import replay

        return replay
    raise AttributeError(f"module 'netseg' has no attribute {name!r}")
