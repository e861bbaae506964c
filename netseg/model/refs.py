"""Entity references: the one spelling of every name netseg prints (cli-and-outputs.md).

Every finding, pair and hop names entities as ``KIND:BODY``::

    guest:NAME/NIC      management:HOST/NAME    endpoint:NAME       router:NAME/IFACE
    host:NAME           nic:HOST/NAME           vswitch:HOST/NAME   portgroup:HOST/VSWITCH/NAME
    switch:NAME/PORT    zone:NAME (a selector)  mac:00:50:56:00:00:99 (an unknown MAC)

plus the wider selectors ``guest:NAME``, ``router:NAME`` and ``switch:NAME``. Names may
contain ``/``, so a reference is matched as a whole string; :func:`split` separates only the
kind, and :func:`parts` the parts whose own names cannot hold a ``/`` (a NIC, an interface).
This module is the only place that writes the grammar; everything else calls it.
"""

from __future__ import annotations

KINDS = (
    "guest",
    "management",
    "endpoint",
    "router",
    "host",
    "nic",
    "vswitch",
    "portgroup",
    "switch",
    "zone",
    "mac",
)


def guest(name: str, nic: str | None = None) -> str:
    """``guest:NAME/NIC``, or ``guest:NAME`` for all of a guest's NICs."""
    return f"guest:{name}" if nic is None else f"guest:{name}/{nic}"


def management(host: str, name: str) -> str:
    return f"management:{host}/{name}"


def endpoint(name: str) -> str:
    return f"endpoint:{name}"


def router(name: str, interface: str | None = None) -> str:
    """``router:NAME/IFACE``, or ``router:NAME`` for the router itself."""
    return f"router:{name}" if interface is None else f"router:{name}/{interface}"


def host(name: str) -> str:
    return f"host:{name}"


def nic(host: str, name: str) -> str:
    return f"nic:{host}/{name}"


def vswitch(host: str, name: str) -> str:
    return f"vswitch:{host}/{name}"


def portgroup(host: str, vswitch: str, name: str) -> str:
    return f"portgroup:{host}/{vswitch}/{name}"


def switch(name: str, port: str | None = None) -> str:
    """``switch:NAME/PORT``, or ``switch:NAME`` for the switch itself."""
    return f"switch:{name}" if port is None else f"switch:{name}/{port}"


def zone(name: str) -> str:
    return f"zone:{name}"


def mac(text: str) -> str:
    """A MAC that is in no attachment, written canonically (``mac:00:50:56:00:00:99``)."""
    return f"mac:{text}"


def split(ref: str) -> tuple[str, str]:
    """``(kind, body)``: ``split("guest:web01/nic0") == ("guest", "web01/nic0")``."""
    kind, _, body = ref.partition(":")
    return kind, body


def kind(ref: str) -> str:
    return ref.partition(":")[0]


def body(ref: str, of: str) -> str:
    """The body of a reference of kind ``of`` (``body("router:core-fw", "router")``)."""
    return ref.removeprefix(of + ":")


def last(ref: str) -> tuple[str, str]:
    """``(owner, name)`` of a two-part reference whose last name holds no ``/`` (a guest's NIC,
    a router's interface): ``last("guest:a/b/nic0") == ("a/b", "nic0")``."""
    owner, _, name = split(ref)[1].rpartition("/")
    return owner, name


def under(ref: str, owner: str) -> str:
    """What follows ``owner`` in a reference (``under("management:esx01/vmk0", "esx01")``)."""
    return split(ref)[1].removeprefix(owner + "/")
