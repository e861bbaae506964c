"""Small topologies for the reachability tests, written as YAML and loaded by the real loader."""

from __future__ import annotations

import textwrap

from netseg.graph import Reachability, analyse_reachability
from netseg.model.topology import Topology
from netseg.topology import loads


def topo(body: str, name: str = "t") -> Topology:
    return loads(f"netseg: 1\nname: {name}\n" + textwrap.dedent(body))


def reach(body: str) -> Reachability:
    return analyse_reachability(topo(body))


def l2(r: Reachability, a: str, b: str) -> bool:
    """Whether two attachments share a segment."""
    return bool(r.attachment(a).segments & r.attachment(b).segments)
