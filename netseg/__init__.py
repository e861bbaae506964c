"""netseg: virtual-network segmentation analyser for type 1 hypervisors.

Who can reach the privileged domain (Xen dom0, the ESXi vmkernel, the Hyper-V management OS),
in a design and in real traffic::

    import netseg

    topology = netseg.load("topologies/esxi-cluster.yaml")   # raises netseg.TopologyError
    print(topology.name, len(topology.guests))

The public names are listed in ``__all__``; everything else is internal.
"""

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
]
