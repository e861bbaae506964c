"""From the model to reachability: bridge domains, segments, L3, firewalls, paths.

::

    from netseg.graph import analyse_reachability

    reach = analyse_reachability(topology)
    for pair in reach.pairs("guests", "management"):     # selectors, as on the command line
        print(pair.source, pair.destination, pair.services, pair.mode, pair.via)
    reach.services("guest:web01/nic0", "management:esx01/vmk0")   # a ServiceSet
    reach.segment_of("guest:web01/nic0")                          # its L2 segments

See docs/semantics.md for how netseg reasons.
"""

from netseg.graph.l2 import Hop, Join, Segment
from netseg.graph.reach import Attachment, Reachability, ReachablePair, analyse_reachability
from netseg.graph.select import select

__all__ = [
    "Attachment",
    "Hop",
    "Join",
    "Reachability",
    "ReachablePair",
    "Segment",
    "analyse_reachability",
    "select",
]
