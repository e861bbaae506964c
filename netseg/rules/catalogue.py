"""The finding catalogue: every rule netseg can report, as data (rules.md).

The rule registry. One :class:`~netseg.rules.finding.RuleInfo` per rule id, declared once
below: its default severity, a title, the condition that makes it fire, the references a
reviewer can look up and what to change so the finding goes away. Everything else reads it:
every finding is made by :func:`finding` (severity and references from here), ``netseg rules``
and SARIF's ``tool.driver.rules`` print it, :func:`check_policy_rules` rejects unknown ids in
``policy.severity`` and ``policy.waivers``, and ``docs/rules.md`` is generated from it
(:func:`render_rules_markdown`). Tests fail when any of them disagree
(tests/rules/test_catalogue.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from netseg.model.topology import NOWHERE, Location, Severity
from netseg.rules.finding import Finding, RuleInfo
from netseg.topology.source import MDict
from netseg.topology.spec import Problems, Where, suggest

CRITICAL, HIGH, MEDIUM, LOW, INFO = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)

_MS = "Microsoft Set-VMNetworkAdapter"

# (id, severity, title, fires when, references, help)
_Entry = tuple[str, Severity, str, str, tuple[str, ...], str]

_SEGMENTATION: tuple[_Entry, ...] = (
    (
        "guest-reaches-management",
        CRITICAL,
        "Guest reaches the privileged domain",
        "a guest can send, by any path, to a privileged-domain interface on services the "
        "policy does not allow; one finding per (source class, management class), with the "
        "services, the paths and the opening element (see Grain)",
        (
            "STIG ESXI-80-000198",
            "seed (Xen: do not let users reach dom0; Hyper-V: separate management network)",
        ),
        "Put management interfaces on a segment no guest attaches to, and let only the "
        "routes and firewall rules the policy allows reach them. Follow the path in the "
        "evidence to the hop to close (port group VLAN, router ACL line, host firewall).",
    ),
    (
        "guest-on-management-segment",
        HIGH,
        "Guest on the management segment",
        "a guest attachment is in the same L2 segment as a management interface, whatever the "
        "firewall says",
        ('STIG ESXI-80-000198 ("no VMs on the management segment")',),
        "Move the guest to a port group or VLAN of its own; no virtual machine belongs in the "
        "broadcast domain of a management interface, even behind the host firewall.",
    ),
    (
        "guest-can-tag-management-vlan",
        HIGH,
        "Guest can tag frames into a management VLAN",
        "a guest can inject tagged frames (VGT port group, trunk-mode NIC, transparent Linux "
        "bridge, OVS port without a tag) and that injection reaches a VLAN whose segment holds "
        "a management interface",
        ("STIG ESXI-80-000220", "SCG esx-9.network-vgt"),
        "Give the guest an access VLAN (a port group VLAN 1-4094, an access-mode NIC, an OVS "
        "tag, a VLAN-filtering bridge) or remove the management VLAN from its trunk.",
    ),
    (
        "guest-observes-management",
        HIGH,
        "Promiscuous guest observes management traffic",
        "a guest attachment with promiscuous mode can observe a bridge domain carrying a "
        "management interface",
        ("STIG ESXI-80-000218",),
        "Reject promiscuous mode on the port group, or move the sensor away from VLANs that "
        "carry management interfaces.",
    ),
    (
        "zone-policy-violation",
        HIGH,
        "Traffic between zones the policy does not allow",
        "a guest or endpoint can send to another zone's endpoint on services the policy does "
        "not allow",
        (),
        "Close the path (router ACL, VLAN separation) or, when the flow is intended, add a "
        "policy.allow rule with its why.",
    ),
    (
        "native-vlan-carries-guests",
        HIGH,
        "Guest frames in a trunk's native VLAN next to a management VLAN",
        "guest frames ride untagged in the native VLAN of a physical trunk that also carries a "
        "management VLAN (double-tag hopping)",
        ("STIG VCSA-80-000272", "CIS 7.4"),
        "Set the trunk's native VLAN to an unused VLAN (or `native: none`) and tag all guest "
        "traffic.",
    ),
    (
        "vmotion-not-isolated",
        MEDIUM,
        "vMotion not isolated",
        "a vmkernel interface with `vmotion` shares a segment with guests or with a "
        "`management` interface",
        ("STIG ESXI-80-000160",),
        "Give vMotion its own VLAN (or physical network) with no guests and no management "
        "interface: vMotion traffic carries guest memory in clear text.",
    ),
    (
        "storage-not-isolated",
        MEDIUM,
        "IP storage not isolated",
        "a vmkernel interface with `iscsi`, `nfs` or `vsan` shares a segment with guests",
        ("STIG ESXI-80-000199",),
        "Put IP storage vmkernel interfaces on a dedicated VLAN that no guest attaches to.",
    ),
)

_HARDENING: tuple[_Entry, ...] = (
    (
        "passthrough-without-iommu",
        CRITICAL,
        "PCI passthrough without IOMMU",
        "a guest or driver domain has PCI passthrough on a host with `iommu: false` (the "
        "device's DMA can read and write any memory)",
        ("seed (Xen IOMMU)", "XSA-61"),
        "Enable the IOMMU (VT-d / AMD-Vi) on the host, or stop passing devices through.",
    ),
    (
        "shared-pci-bus",
        MEDIUM,
        "Passed-through devices share a PCI bus",
        "devices passed through to two different domains sit on the same PCI bus (bus traffic "
        "between them can be watched)",
        ("seed (Xen shared buses)",),
        "Pass through devices of one PCI bus to one domain only; move a card to another slot.",
    ),
    (
        "management-firewall-missing",
        HIGH,
        "Host declares no management firewall",
        "a host declares no `firewall`",
        ("seed (firewall for the management domain)", "STIG ESXI-80-000214"),
        "Declare the privileged domain's firewall with `default: deny` and allow only the "
        "administration sources and services.",
    ),
    (
        "management-firewall-permissive",
        MEDIUM,
        "Management firewall is permissive",
        "firewall `default: allow`, or an allow from `any` or from a non-privileged zone",
        ("STIG ESXI-80-000239",),
        "Use `default: deny` and allow only privileged zones or administration prefixes.",
    ),
    (
        "management-on-guest-switch",
        MEDIUM,
        "Management interface on a switch guests use",
        "a management interface attaches to a virtual switch that guests also attach to (incl. "
        "Hyper-V `allow_management_os` on a switch with guests, an `internal` switch with "
        "guests, a dom0 address on a guest bridge)",
        ("seed (Hyper-V: management OS on its own adapter; Xen/ESX network hardening)",),
        "Give the privileged domain its own virtual switch and physical adapter; on Hyper-V "
        "set AllowManagementOS to false on guest switches.",
    ),
    (
        "management-interface-multipurpose",
        LOW,
        "vmkernel interface carries management and other services",
        "a vmkernel interface carries `management` and other services",
        ("STIG ESXI-80-000198",),
        "Use one vmkernel interface per service (management, vMotion, storage, ...).",
    ),
    (
        "promiscuous-allowed",
        MEDIUM,
        "Promiscuous mode allowed",
        "promiscuous mode allowed on a vSwitch or port group with guests",
        ("STIG ESXI-80-000218", "CIS 7.3"),
        "Set promiscuous mode to reject on the vSwitch and port group.",
    ),
    (
        "forged-transmits-allowed",
        MEDIUM,
        "Forged transmits allowed",
        "forged transmits allowed (incl. by vendor default)",
        ("STIG ESXI-80-000216", "CIS 7.1"),
        "Set forged transmits to reject (a standard vSwitch accepts them by default).",
    ),
    (
        "mac-changes-allowed",
        MEDIUM,
        "MAC address changes allowed",
        "MAC address changes allowed (incl. by vendor default)",
        ("STIG ESXI-80-000217", "CIS 7.2"),
        "Set MAC address changes to reject (a standard vSwitch accepts them by default).",
    ),
    (
        "guest-vlan-trunking",
        MEDIUM,
        "Guest VLAN trunking",
        "a port group with VLAN 4095 / trunk that a guest uses, or a guest NIC in trunk mode "
        "(whether or not it also reaches a management VLAN)",
        ("STIG ESXI-80-000220",),
        "Give the guest an access VLAN; keep VLAN 4095 and trunk port groups for the few "
        "appliances that need them and waive those with a reason.",
    ),
    (
        "transparent-bridge",
        MEDIUM,
        "Linux bridge passes guests' VLAN tags",
        "guests on a Linux bridge without VLAN filtering whose uplink is a raw NIC (guests' "
        "tags reach the wire)",
        (),
        "Enable `vlan_filtering` on the bridge, or uplink it to a `NIC.VLAN` subinterface.",
    ),
    (
        "untagged-ovs-port",
        MEDIUM,
        "Guest OVS port without a VLAN tag",
        "a guest OVS port without `vlan` (trunks every VLAN)",
        (),
        "Give the guest's OVS port a `vlan` (tag), or a trunk of only the VLANs it needs.",
    ),
    (
        "mac-spoofing-allowed",
        MEDIUM,
        "MAC spoofing allowed",
        "Hyper-V guest NIC with `mac_spoofing: true`",
        (_MS,),
        "Set-VMNetworkAdapter -MacAddressSpoofing Off.",
    ),
    (
        "dhcp-guard-off",
        LOW,
        "DHCP guard off",
        "Hyper-V guest NIC without DHCP guard, guest lacks role `dhcp-server`",
        (_MS,),
        "Set-VMNetworkAdapter -DhcpGuard On, or give the guest role `dhcp-server`.",
    ),
    (
        "router-guard-off",
        LOW,
        "Router guard off",
        "Hyper-V guest NIC without router guard, guest lacks role `router`",
        (_MS,),
        "Set-VMNetworkAdapter -RouterGuard On, or give the guest role `router`.",
    ),
    (
        "native-vlan-1",
        LOW,
        "VLAN 1 in use",
        "a trunk's native VLAN is 1 (explicitly or by default, even when 1 is not in "
        "`allowed`), or a port group/NIC/port uses VLAN 1",
        ("CIS 7.4",),
        "Set trunks' native VLAN to an unused VLAN (or `native: none`) and move traffic off "
        "VLAN 1.",
    ),
    (
        "reserved-vlan",
        LOW,
        "Reserved VLAN in use",
        "a VLAN in 1001–1024 or 4094 is used",
        ("STIG VCSA-80-000274",),
        "Use VLANs outside 1001-1024 and 4094, which switches reserve for their own use.",
    ),
    (
        "dom0-runs-guest-bridge",
        INFO,
        "dom0 bridges guests",
        "Xen guests bridge through dom0 rather than a driver domain",
        ("seed (driver domains)",),
        "Consider a network driver domain so that a compromised NIC driver or bridge does not "
        "compromise dom0.",
    ),
    (
        "unused-resource",
        INFO,
        "Unused resource",
        "an uplink-less switch with no attachments, a port group nobody uses, a NIC nothing uses",
        ("seed (disable unused devices)",),
        "Remove what nothing uses: every unused device is attack surface.",
    ),
    (
        "upstream-unmodelled",
        INFO,
        "NIC cabled to an unmodelled switch",
        "a NIC names no switch (the implicit `upstream` was assumed)",
        (),
        "Declare the physical switch port the NIC is cabled to, so that VLANs on the wire are "
        "analysed rather than assumed.",
    ),
)

_CAPTURE: tuple[tuple[str, Severity, str, str, str], ...] = (
    (
        "observed-guest-to-management",
        CRITICAL,
        "Observed guest traffic to the privileged domain",
        "traffic from a guest to a management interface on a service the policy does not allow",
        "Find the path the traffic took (`netseg reach --explain`) and close it.",
    ),
    (
        "observed-zone-violation",
        HIGH,
        "Observed traffic between zones the policy does not allow",
        "traffic between zones on a service the policy does not allow",
        "Close the path, or add the flow to policy.allow if it is intended.",
    ),
    (
        "observed-model-drift",
        HIGH,
        "Observed conversation the model says cannot happen",
        "an answered conversation on a service that the model says cannot get through (the "
        "design and reality disagree)",
        "Correct the topology to match the real network, or the network to match the design.",
    ),
    (
        "observed-wrong-vlan",
        HIGH,
        "Observed frame in the wrong VLAN",
        "a known endpoint's frame carries a VLAN its attachment does not carry, or arrives "
        "untagged where it must be tagged",
        "Check the attachment's VLAN configuration and the capture point.",
    ),
    (
        "observed-double-tag",
        HIGH,
        "Observed double-tagged frame",
        "a frame with two or more 802.1Q/802.1ad tags, unless the capture point is a switch "
        "port with `qinq: true`",
        "Find the sender; set trunks' native VLAN to an unused VLAN to stop double-tag hopping.",
    ),
    (
        "observed-address-spoofing",
        HIGH,
        "Observed address spoofing",
        "a known MAC sends from an IP address that is not its own, or an ARP/ND message claims "
        "another endpoint's address (critical when the claimed address is a management "
        "interface's). Not spoofing: frames from router interfaces (they forward others' "
        "packets), IPv6 link-local addresses derived from the sender's MAC (EUI-64), and the "
        "unspecified sources `0.0.0.0` / `::`",
        "Enable spoofing protection (forged transmits reject, MAC spoofing off, ARP inspection).",
    ),
    (
        "observed-rogue-dhcp",
        HIGH,
        "Observed rogue DHCP server",
        "a DHCP offer/ack from an endpoint without role `dhcp-server`",
        "Enable DHCP guard, or give the endpoint role `dhcp-server` if it is legitimate.",
    ),
    (
        "observed-rogue-router-advertisement",
        HIGH,
        "Observed rogue router advertisement",
        "an ICMPv6 router advertisement from an endpoint without role `router`",
        "Enable router guard / RA guard, or give the endpoint role `router`.",
    ),
    (
        "observed-unknown-source",
        MEDIUM,
        "Observed frames from an unknown MAC",
        "frames from a MAC that is in no attachment of the topology, whether or not their IP "
        "address is known",
        "Declare the machine in the topology, or find out why it is on the network.",
    ),
    (
        "observed-bridge-protocol",
        MEDIUM,
        "Observed bridge protocol from a guest",
        "STP BPDU, CDP, LLDP or DTP from a guest",
        "Block bridge protocols from guests (BPDU guard / filter on the virtual switch).",
    ),
)


def _build() -> dict[str, RuleInfo]:
    rules: dict[str, RuleInfo] = {}
    for rid, sev, title, when, refs, fix in _SEGMENTATION + _HARDENING:
        rules[rid] = RuleInfo(rid, sev, title, when, refs, "design", fix)
    for rid, sev, title, when, fix in _CAPTURE:
        rules[rid] = RuleInfo(rid, sev, title, when, (), "capture", fix)
    return rules


#: Every rule, design rules first, in the order of rules.md: the one table that maps rule ids
#: to their declaration.
CATALOGUE: Mapping[str, RuleInfo] = MappingProxyType(_build())

#: What to change so that a rule's finding goes away (each entry's ``help``).
HELP: Mapping[str, str] = MappingProxyType({rid: r.help for rid, r in CATALOGUE.items()})

#: The rules of the "Configuration hardening" table (computed from configuration alone).
HARDENING_RULES: tuple[str, ...] = tuple(r[0] for r in _HARDENING)

#: The rules of the "Segmentation" table (computed from reachability).
SEGMENTATION_RULES: tuple[str, ...] = tuple(r[0] for r in _SEGMENTATION)


#: Where rules.md leaves room, what netseg does (printed in docs/rules.md).
INTERPRETATION: tuple[str, ...] = (
    "Severities are defaults: `policy.severity` replaces a rule's severity for one topology. "
    "A waiver (`policy.waivers`) matches a finding whose subject is the waiver's subject, or "
    "lies inside it: `zone:NAME` (guests, endpoints and management interfaces of the zone), "
    "`host:NAME` (everything declared on the host and its guests), `guest:NAME` (its NICs), "
    "`switch:NAME` (its ports), `router:NAME` (its interfaces). Waived findings stay listed "
    "with the reason, are not counted in the summary, and never fail a run.",
    "Findings are sorted by severity (worst first), then rule, subject and object.",
    "Grain: `guest-reaches-management` is reported per (guest class, management class), "
    "`zone-policy-violation` per (source class, zone) and `guest-on-management-segment` per "
    "(guest class, segment). A class is the attachments that share kind, zone, segments "
    "(and whether each is joined tagged only), address profile (the prefixes their addresses "
    "match and the gateways they use) and, for management interfaces, the host firewall's "
    "rules. The subject (and, for a management class, the object) is the first member in "
    "name order, so a class of one reads as a single entity. The evidence adds `sources` "
    "(and `destinations` for a management class): `class` (a stable name, `class:` and 12 "
    "hex digits of what defines the class, never of its members), `count` and the first 10 "
    "`examples`; `routes` (one per route kind: mode, routers, the ACL lines that let it "
    "through, a path); and `opening`, the element a change would close (routed: the first "
    "router's ACL line that lets it through; adjacent: the port group, port or NIC by which "
    "the destination joins the segment, or the source's own tagging port group or bridge "
    "when it must tag its frames), with its `file` and `line`. `netseg check --format json` "
    "lists every member once in a top-level `classes` table (class name to members). A "
    "finding's identity, for `diff` and SARIF fingerprints, is (rule, source class, "
    "destination class or zone or segment): it stays when members join or leave. A waiver "
    "waives a class finding when it (or several) covers every member of the source class; "
    "naming one member of a larger class leaves the finding reported for the others. "
    "`guest-can-tag-management-vlan` is reported per (guest class, the management segments "
    "and VLANs its tags reach): identity (rule, source class, `tagged:SEGMENTS/VLANS`), "
    "`opening` the guest's own tagging port group, port or bridge. "
    "`guest-observes-management` is reported per (guest class, promiscuous port group): "
    "identity (rule, source class, the port group), `management` every management interface "
    "a member sees (first 10), `opening` the port group. Both add `sources` as above.",
    "`management-firewall-missing` fires for every host without `firewall`.",
    "`management-firewall-permissive`: `default: allow`; an allow from `any` or from a "
    "prefix of length 0; from a zone that is not privileged; or from a prefix that contains "
    "a guest's address (an administrators' subnet, jump hosts included, is the intended "
    "use; one that admits guests is not). One finding per host, at "
    "the first permissive line, listing every reason.",
    "`management-on-guest-switch` fires whatever the VLANs: sharing the virtual switch "
    "itself is the finding.",
    "`promiscuous-allowed`, `forged-transmits-allowed`, `mac-changes-allowed` and the "
    "`guest-vlan-trunking` of an ESXi port group are reported once per port group that a "
    "guest uses (subject `portgroup:HOST/VSWITCH/NAME`), from the settings as resolved "
    "(port group, else vSwitch, else the vendor default).",
    "`guest-vlan-trunking` of a Hyper-V, Linux-bridge or OVS NIC is reported per NIC in "
    "trunk mode; an OVS port that trunks every VLAN with the bridge's untagged domain as "
    "native (what an OVS port without `vlan` does) is reported as `untagged-ovs-port` "
    "instead.",
    "`transparent-bridge` and `dom0-runs-guest-bridge` are reported once per bridge.",
    "`native-vlan-1` and `reserved-vlan`: a VLAN is used when something sits in it (an "
    "access VLAN of a port, port group, NIC, management or router interface, endpoint or "
    "`NIC.VLAN` uplink), is a trunk's native VLAN, or is listed in a virtual attachment's "
    "explicit trunk set. A physical trunk's `allowed` set only carries VLANs, and "
    "`4095`/`all` name no VLAN in particular.",
    "PCI passthrough of a Xen driver domain is its `passthrough` devices plus the NICs it "
    "owns; findings about a driver domain name its host (`host:NAME`), as driver domains "
    "have no entity reference of their own. `shared-pci-bus` compares the `DDDD:BB` part of "
    "the addresses, per host, one finding per pair of domains.",
    "`unused-resource` covers virtual switches without uplink or attachment, port groups "
    "that no guest, management or router interface uses, and NICs that are no uplink, "
    "carry no management interface and belong to no driver domain. A distributed switch's "
    "port group is unused only when no host uses it, and is reported once.",
)


def rule(rule_id: str) -> RuleInfo:
    """The catalogue entry of ``rule_id`` (KeyError names the unknown id)."""
    return CATALOGUE[rule_id]


def check_policy_rules(document: MDict, problems: Problems) -> None:
    """Every rule id the topology's policy names (``policy.severity`` keys, ``rule`` of each
    waiver) must be a rule of the catalogue: a typo would otherwise silently change nothing.

    A document check (:data:`netseg.topology.DocumentCheck`) that :func:`netseg.load` passes to
    the loader, which knows the format and not the rules.
    """
    policy = document.get("policy")
    if not isinstance(policy, MDict):
        return
    severity = policy.get("severity")
    if isinstance(severity, MDict):
        for rule_id in severity:
            if rule_id not in CATALOGUE:
                problems.add(
                    Where(severity, rule_id, f"policy.severity.{rule_id}"),
                    f"unknown rule {rule_id!r}{suggest(rule_id, CATALOGUE)}",
                    at_key=True,
                )
    waivers = policy.get("waivers")
    if isinstance(waivers, list):
        for k, waiver in enumerate(waivers):
            rule_id = waiver.get("rule") if isinstance(waiver, MDict) else None
            if isinstance(rule_id, str) and rule_id not in CATALOGUE:
                problems.add(
                    Where(waiver, "rule", f"policy.waivers[{k}].rule"),
                    f"unknown rule {rule_id!r}{suggest(rule_id, CATALOGUE)}",
                )


def finding(
    rule_id: str,
    message: str,
    subject: str,
    location: Location = NOWHERE,
    object: str | None = None,
    evidence: Mapping[str, Any] | None = None,
    severity: Severity | None = None,
    identity: tuple[str, ...] = (),
    classes: Mapping[str, Sequence[str]] | None = None,
) -> Finding:
    """The one way a rule makes a finding: severity (unless a rule raises its own, as
    ``observed-address-spoofing`` does for a claimed management address) and references come
    from the rule's declaration, so findings cannot drift from the catalogue.

    ``policy.severity`` overrides and waivers are applied later, to the whole list
    (:func:`netseg.rules.engine.apply_policy`).
    """
    info = CATALOGUE[rule_id]
    return Finding(
        rule_id,
        severity or info.severity,
        message,
        subject,
        object,
        location,
        info.references,
        evidence if evidence is not None else {},
        identity=identity,
        classes=classes if classes is not None else {},
    )


def help_text(rule_id: str) -> str:
    """Plain-text help for a rule: the condition, the fix and the references."""
    info = CATALOGUE[rule_id]
    refs = "; ".join(info.references) if info.references else "none"
    return (
        f"{info.title}.\n\nFires when {info.fires_when}.\n\nFix: {info.help}\n\nReferences: {refs}"
    )


def render_rules_markdown() -> str:
    """The text of docs/rules.md, generated so that the page never drifts from the code."""
    out = [
        "# Finding catalogue",
        "",
        "<!-- Generated from netseg/rules/catalogue.py: do not edit. Regenerate with",
        "     .venv/bin/python -m netseg.rules.catalogue > docs/rules.md -->",
        "",
        "Every finding has a stable rule id, a default severity (a topology may change it with",
        "`policy.severity` or waive it for named subjects with `policy.waivers`), and",
        "references. `netseg rules` prints this table; `netseg rules --format json` prints it",
        "for programs.",
        "",
    ]
    sections = (
        ("Design findings (`netseg check`)", "design"),
        ("Capture findings (`netseg replay`)", "capture"),
    )
    for heading, kind in sections:
        out += [f"## {heading}", ""]
        out += [
            "| rule | severity | title | fires when | references |",
            "| --- | --- | --- | --- | --- |",
        ]
        for info in CATALOGUE.values():
            if info.kind != kind:
                continue
            refs = "; ".join(info.references) if info.references else "—"
            out.append(
                f"| `{info.id}` | {info.severity} | {_cell(info.title)} | "
                f"{_cell(info.fires_when)} | {_cell(refs)} |"
            )
        out.append("")
        out += ["### How to fix", ""]
        for info in CATALOGUE.values():
            if info.kind == kind:
                out.append(f"- `{info.id}`: {info.help}")
        out.append("")
    out += ["## How netseg reads the rules", ""]
    out += [f"- {line}" for line in INTERPRETATION]
    out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_rules_markdown())
