"""From the model to reachability: bridge domains, segments, L3, firewalls, paths.

::

    from netseg.graph import analyse_reachability

    reach = analyse_reachability(topology)
    for pair in reach.pairs("guests", "management"):     # selectors, as on the command line
        print(pair.source, pair.destination, pair.services, pair.mode, pair.via)
    reach.services("guest:web01/nic0", "management:esx01/vmk0")   # a ServiceSet
    reach.segment_of("guest:web01/nic0")                          # its L2 segments

See docs/semantics.md for how netseg reasons.


The public API, which the rules, the capture judge and the renderers use (tests/test_layers.py
holds them to it): :class:`Reachability` and its values, the selectors, and the one policy
evaluator (:func:`policy_allows` for two sides, :func:`zone_intent` for two zones).
"""

from netseg.graph.grain import by_name, class_identity
from netseg.graph.l2 import UNTAGGED, Hop, Join, Segment
from netseg.graph.l3 import PrefixIndex, policy_allows, zone_intent
from netseg.graph.l3 import Side as PolicySide
from netseg.graph.reach import Attachment, Reachability, ReachablePair, analyse_reachability
from netseg.graph.select import select
from netseg.graph.stream import (
    ClassPair,
    PairParts,
    RowPlan,
    SourceRow,
    class_pairs,
    stream_pairs,
    stream_rows,
    to_pair,
)
from netseg.graph.values import Verdict

__all__ = [
    "UNTAGGED",
    "Attachment",
    "ClassPair",
    "Hop",
    "Join",
    "PairParts",
    "PolicySide",
    "PrefixIndex",
    "Reachability",
    "ReachablePair",
    "RowPlan",
    "Segment",
    "SourceRow",
    "Verdict",
    "analyse_reachability",
    "by_name",
    "class_identity",
    "class_pairs",
    "policy_allows",
    "select",
    "stream_pairs",
    "stream_rows",
    "to_pair",
    "zone_intent",
]
