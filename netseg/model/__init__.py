"""Immutable domain values: topology entities, VLAN sets, service sets. No I/O."""

from netseg.model.services import PortSet, ServiceSet
from netseg.model.topology import *  # noqa: F403
from netseg.model.topology import (
    Address,
    Hypervisor,
    Location,
    Severity,
    Topology,
)
from netseg.model.vlans import VlanSet

__all__ = [
    "Address",
    "Hypervisor",
    "Location",
    "PortSet",
    "ServiceSet",
    "Severity",
    "Topology",
    "VlanSet",
]
