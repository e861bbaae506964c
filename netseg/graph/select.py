"""Selectors for ``--from``/``--to``: which attachments a user means.

Works on the model alone (entity references in, references out), so reachability can use it
and it never needs reachability.

Grammar (docs/cli.md, "Entity references"): an entity reference (``guest:NAME/NIC``, ``guest:NAME`` for all
its NICs, ``management:HOST/NAME``, ``endpoint:NAME``, ``router:NAME/IFACE``, ``router:NAME``
for all its interfaces), ``zone:NAME``, ``host:NAME`` (guests on the host, its management
interfaces and virtual router interfaces on it), ``guests``, ``management``, ``endpoints``,
``routers``. References are matched as whole strings (names may contain ``/``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from netseg.errors import SelectorError
from netseg.model import refs
from netseg.model.topology import Topology

KEYWORDS = ("guests", "management", "endpoints", "routers")


def attachment_refs(topology: Topology) -> list[str]:
    """Entity references of every attachment, in topology order."""
    refs = [n.ref for g in topology.guests for n in g.nics]
    refs += [m.ref for h in topology.hosts for m in h.management]
    refs += [e.ref for e in topology.endpoints]
    refs += [i.ref for r in topology.routers for i in r.interfaces]
    return refs


def _valid_names(topology: Topology) -> list[str]:
    names = list(KEYWORDS)
    names += [refs.zone(z) for z in topology.zones]
    names += [refs.host(h.name) for h in topology.hosts]
    names += [refs.guest(g.name) for g in topology.guests]
    names += [refs.router(r.name) for r in topology.routers]
    return names + attachment_refs(topology)


def _suggest(selector: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(selector, names, n=3, cutoff=0.6)
    if close:
        return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
    kinds = "guests, management, endpoints, routers, zone:NAME, host:NAME or an entity reference"
    return f" (expected {kinds})"


def unknown_reference(ref: str, refs: Sequence[str]) -> SelectorError:
    return SelectorError(f"no attachment {ref!r} in this topology{_suggest(ref, refs)}")


def select(topology: Topology, selector: str) -> list[str]:
    """Entity references of the attachments a selector names; raises SelectorError."""
    sel = selector.strip()
    kind, colon, name = sel.partition(":")
    hits: list[str]
    if sel == "guests":
        hits = [n.ref for g in topology.guests for n in g.nics]
    elif sel == "management":
        hits = [m.ref for h in topology.hosts for m in h.management]
    elif sel == "endpoints":
        hits = [e.ref for e in topology.endpoints]
    elif sel == "routers":
        hits = [i.ref for r in topology.routers for i in r.interfaces]
    elif colon and kind == "zone":
        if name not in topology.zones:
            raise SelectorError(
                f"no zone {name!r}{_suggest(sel, [f'zone:{z}' for z in topology.zones])}"
            )
        hits = [n.ref for g in topology.guests if g.zone == name for n in g.nics]
        hits += [m.ref for h in topology.hosts for m in h.management if m.zone == name]
        hits += [e.ref for e in topology.endpoints if e.zone == name]
    elif colon and kind == "host":
        names = {h.name for h in topology.hosts}
        if name not in names:
            raise SelectorError(
                f"no host {name!r}{_suggest(sel, [f'host:{h}' for h in sorted(names)])}"
            )
        hits = [n.ref for g in topology.guests if g.host == name for n in g.nics]
        hits += [m.ref for m in topology.host(name).management]
        hits += [i.ref for r in topology.routers for i in r.interfaces if i.host == name]
    elif (
        colon and kind == "guest" and "/" not in name and name in {g.name for g in topology.guests}
    ):
        hits = [n.ref for n in topology.guest(name).nics]
    elif colon and kind == "router" and name in {r.name for r in topology.routers}:
        hits = [i.ref for r in topology.routers if r.name == name for i in r.interfaces]
    else:
        refs = attachment_refs(topology)
        if sel not in set(refs):
            raise SelectorError(
                f"selector {selector!r} names nothing in {topology.name}"
                f"{_suggest(sel, _valid_names(topology))}"
            )
        hits = [sel]
    return hits
