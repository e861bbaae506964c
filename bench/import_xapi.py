"""Time ``netseg import xapi`` on a generated 1,000-host / 50,000-VM estate.

``python -m bench.import_xapi [--hosts N] [--vms-per-host M] [--pool-size P]`` writes XAPI pool
dumps (a pool holds at most 64 hosts, so 1,000 hosts are 16 pools) with the tables and fields
of ``xe pool-dump-database`` (bonded NICs, a management VLAN, guest VLAN networks, VMs with
VIFs, plus the storage and metrics rows a real dump carries and the importer skips), imports
them as one topology (JSON, checked by the loader) and prints the seconds and the peak RSS.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import quoteattr

from bench.imports import peak_rss_mib, timed_import

GUEST_VLANS = range(20, 30)


def _row(out: TextIO, **fields: str) -> None:
    out.write("<row " + " ".join(f"{k}={quoteattr(v)}" for k, v in fields.items()) + "/>\n")


def write_pool(out: TextIO, pool: int, first: int, hosts: int, vms: int) -> None:
    ref = lambda kind, *n: f"OpaqueRef:{kind}-{pool}-" + "-".join(map(str, n))  # noqa: E731
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<database>\n<manifest>\n')
    out.write(
        '<pair key="schema_major_vsn" value="5"/>\n<pair key="product_brand" value="XCP-ng"/>\n'
    )
    out.write("</manifest>\n")
    backend = "(('product_brand' 'XCP-ng') ('network_backend' 'openvswitch'))"
    out.write('<table name="host">\n')
    for h in range(hosts):
        _row(
            out,
            ref=ref("host", h),
            uuid=f"{pool:08x}-{h:04x}-4000-8000-000000000000",
            name__label=f"xcp{first + h:04d}",
            software_version=backend,
            chipset_info="(('iommu' 'true'))",
            other_config="(('agent_start_time' '1700000000.'))",
        )
    out.write('</table>\n<table name="network">\n')
    _row(
        out,
        ref=ref("net", "bond"),
        name__label="Bond 0+1",
        bridge="xapi1",
        default_locking_mode="unlocked",
    )
    _row(
        out,
        ref=ref("net", "mgmt"),
        name__label="Management",
        bridge="xapi2",
        default_locking_mode="unlocked",
    )
    for v in GUEST_VLANS:
        _row(
            out,
            ref=ref("net", v),
            name__label=f"VLAN {v}",
            bridge=f"xapi{v}",
            default_locking_mode="unlocked",
        )
    out.write('</table>\n<table name="PIF">\n')
    for h in range(hosts):
        host = ref("host", h)
        mac = f"00:16:3e:{pool:02x}:{h // 256:02x}:{h % 256:02x}"
        for eth in ("eth0", "eth1"):
            _row(
                out,
                ref=ref("pif", h, eth),
                device=eth,
                host=host,
                network=ref("net", "bond"),
                physical="true",
                VLAN="-1",
                bond_slave_of=ref("bond", h),
                management="false",
                MAC=mac,
            )
        _row(
            out,
            ref=ref("pif", h, "bond0"),
            device="bond0",
            host=host,
            network=ref("net", "bond"),
            physical="false",
            VLAN="-1",
            bond_master_of=f"('{ref('bond', h)}')",
            bond_slave_of="OpaqueRef:NULL",
            management="false",
            MAC=mac,
        )
        _row(
            out,
            ref=ref("pif", h, "v10"),
            device="bond0",
            host=host,
            network=ref("net", "mgmt"),
            physical="false",
            VLAN="10",
            VLAN_master_of=ref("vlan", h, 10),
            management="true",
            IP=f"172.16.{(first + h) // 250}.{(first + h) % 250 + 1}",
            netmask="255.255.0.0",
            ip_configuration_mode="Static",
            MAC=mac,
        )
        for v in GUEST_VLANS:
            _row(
                out,
                ref=ref("pif", h, v),
                device="bond0",
                host=host,
                network=ref("net", v),
                physical="false",
                VLAN=str(v),
                VLAN_master_of=ref("vlan", h, v),
                management="false",
                MAC=mac,
            )
    out.write('</table>\n<table name="VLAN">\n')
    for h in range(hosts):
        for v in (10, *GUEST_VLANS):
            untagged = ref("pif", h, "v10" if v == 10 else v)
            _row(
                out,
                ref=ref("vlan", h, v),
                tagged_PIF=ref("pif", h, "bond0"),
                untagged_PIF=untagged,
                tag=str(v),
            )
    out.write('</table>\n<table name="Bond">\n')
    for h in range(hosts):
        _row(
            out,
            ref=ref("bond", h),
            master=ref("pif", h, "bond0"),
            slaves=f"('{ref('pif', h, 'eth0')}' '{ref('pif', h, 'eth1')}')",
        )
    out.write('</table>\n<table name="VM">\n')
    for h in range(hosts):
        _row(
            out,
            ref=ref("vm", h, "dom0"),
            name__label=f"Control domain on host: xcp{first + h:04d}",
            is_control_domain="true",
            is_a_template="false",
            is_a_snapshot="false",
            resident_on=ref("host", h),
            power_state="Running",
        )
        for v in range(vms):
            _row(
                out,
                ref=ref("vm", h, v),
                uuid=f"{pool:04x}{h:04x}-{v:04x}-4000-8000-000000000000",
                name__label=f"vm-{first + h:04d}-{v:02d}",
                is_control_domain="false",
                is_a_template="false",
                is_a_snapshot="false",
                resident_on=ref("host", h),
                affinity="OpaqueRef:NULL",
                power_state="Running",
                other_config="()",
            )
    out.write('</table>\n<table name="VIF">\n')
    for h in range(hosts):
        for v in range(vms):
            vlan = GUEST_VLANS[v % len(GUEST_VLANS)]
            _row(
                out,
                ref=ref("vif", h, v),
                VM=ref("vm", h, v),
                network=ref("net", vlan),
                device="0",
                MAC=f"aa:{pool:02x}:{h // 256:02x}:{h % 256:02x}:{v // 256:02x}:{v % 256:02x}",
                locking_mode="locked" if v % 3 == 0 else "network_default",
                ipv4_allowed=f"('10.{vlan}.{h % 250}.{v + 1}')",
                ipv6_allowed="()",
            )
    # what a real dump also carries: disks, metrics (skipped by the importer)
    out.write('</table>\n<table name="VBD">\n')
    for h in range(hosts):
        for v in range(vms):
            _row(
                out,
                ref=ref("vbd", h, v),
                VM=ref("vm", h, v),
                VDI=ref("vdi", h, v),
                device="xvda",
                userdevice="0",
                mode="RW",
                type="Disk",
                other_config="(('owner' 'true'))",
            )
    out.write('</table>\n<table name="VM_metrics">\n')
    for h in range(hosts):
        for v in range(vms):
            _row(
                out,
                ref=ref("vmm", h, v),
                memory__actual="2147483648",
                VCPUs__number="2",
                VCPUs__utilisation="((0 0.01) (1 0.02))",
                start_time="20261130T09:00:00Z",
                other_config="()",
            )
    out.write("</table>\n</database>\n")


def generate(folder: Path, hosts: int, vms: int, pool_size: int) -> list[str]:
    paths = []
    for pool, first in enumerate(range(0, hosts, pool_size)):
        path = folder / f"pool{pool:02d}.xml"
        with path.open("w", encoding="utf-8") as out:
            write_pool(out, pool, first, min(pool_size, hosts - first), vms)
        paths.append(str(path))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms-per-host", type=int, default=50)
    parser.add_argument("--pool-size", type=int, default=64)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="netseg-bench-xapi-") as tmp:
        paths = generate(Path(tmp), args.hosts, args.vms_per_host, args.pool_size)
        size = sum(Path(p).stat().st_size for p in paths)
        timed = timed_import("xapi", paths)
    result, seconds, cpu, peak = timed.result, timed.seconds, timed.cpu, peak_rss_mib()
    print(
        f"import xapi: {result.counts['hosts']} hosts, {result.counts['guests']} guests "
        f"from {len(paths)} dumps ({size / 1e6:.0f} MB): {seconds:.1f} s ({cpu:.1f} s CPU), peak RSS {peak:.0f} MiB, "
        f"{len(result.warnings)} warnings"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
