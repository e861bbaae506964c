"""Time ``netseg import vcenter`` on a large simulated vCenter.

    python -m bench.import_vcenter [--hosts 1000] [--vms-per-host 50]

Generates a deterministic estate (every host with four CDP-linked vmnics, a standard vSwitch
with management, vMotion and vSAN port groups and vmkernel adapters, membership of one
distributed switch with 40 port groups; VMs spread over the hosts and port groups, each with
guest addresses), builds it in govmomi's simulator (tests/importers/vcsim/main.go), then imports
it in this process through pyVmomi and prints the seconds and the peak RSS of the import (the
simulator runs in a child process and is not counted). The VMs get the MAC the simulator
generates, which repeats: the import warns about each repeat and carries on.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.vcsim import build, serve
from netseg.importers import ImportRequest, run_import

PORTGROUPS = 40


def estate(hosts: int, vms_per_host: int) -> dict[str, Any]:
    out: dict[str, Any] = {"hosts": [], "dvswitches": [], "vms": []}
    uplinks: dict[str, list[str]] = {}
    for h in range(hosts):
        name = f"esx{h + 1:04d}"
        rack, slot = divmod(h, 40)
        pnics = []
        for n in range(4):
            tor = f"tor{rack * 2 + n % 2 + 1}"
            pnics.append(
                {
                    "device": f"vmnic{n}",
                    "mac": f"00:50:56:{h >> 8 & 0xFF:02x}:{h & 0xFF:02x}:{n:02x}",
                    "neighbour": {
                        "protocol": "cdp",
                        "systemName": f"{tor}.example.net",
                        "portId": f"Eth1/{slot + 1 + (n // 2) * 40}",
                        "vlan": 1,
                    },
                }
            )
        ip = h + 1
        out["hosts"].append(
            {
                "name": name,
                "pnics": pnics,
                "vswitches": [
                    {
                        "name": "vSwitch0",
                        "pnics": ["vmnic0", "vmnic1"],
                        "security": {"promiscuous": False, "macChanges": False},
                    }
                ],
                "portgroups": [
                    {"name": "Management Network", "vswitch": "vSwitch0", "vlan": 100},
                    {"name": "vMotion", "vswitch": "vSwitch0", "vlan": 200},
                    {"name": "vSAN", "vswitch": "vSwitch0", "vlan": 300},
                ],
                "vnics": [
                    {
                        "device": f"vmk{k}",
                        "portgroup": pg,
                        "ip": "",
                        "ipv6": [f"2001:db8:{vlan}::{ip:x}/64"],
                        "services": [service],
                    }
                    for k, (pg, vlan, service) in enumerate(
                        [
                            ("Management Network", 100, "management"),
                            ("vMotion", 200, "vmotion"),
                            ("vSAN", 300, "vsan"),
                        ]
                    )
                ],
            }
        )
        uplinks[name] = ["vmnic2", "vmnic3"]
    out["dvswitches"].append(
        {
            "name": "dvs-prod",
            "uplinks": uplinks,
            "portgroups": [{"name": f"vlan{1000 + p}", "vlan": 1000 + p} for p in range(PORTGROUPS)]
            + [{"name": "ids", "trunk": [[1000, 1000 + PORTGROUPS - 1]]}],
        }
    )
    for v in range(hosts * vms_per_host):
        pg = v % PORTGROUPS
        out["vms"].append(
            {
                "name": f"vm{v + 1:06d}",
                "host": f"esx{v % hosts + 1:04d}",
                "folder": f"Tenants/t{pg:02d}",
                "nics": [
                    {"network": f"vlan{1000 + pg}", "ips": [f"2001:db8:{1000 + pg}::{v + 1:x}/64"]}
                ],
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms-per-host", type=int, default=50)
    args = parser.parse_args(argv)
    binary = build()
    if isinstance(binary, str):
        print(f"skipped: {binary}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "estate.json"
        path.write_text(json.dumps(estate(args.hosts, args.vms_per_host)), encoding="utf-8")
        with serve(binary, path, timeout=3600) as sim:
            request = ImportRequest(
                (),
                {
                    "server": sim.server,
                    "user": sim.user,
                    "password": sim.password,
                    "insecure": True,
                },
            )
            started = time.perf_counter()
            result = run_import("vcenter", request, name="bench", json_form=True)
            seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items() if n)
    print(
        f"vcenter import: {counts}; simulator built the estate in {sim.seconds:.1f} s; "
        f"import {seconds:.2f} s, peak RSS {rss_mb:.0f} MB, {len(result.warnings)} warnings, "
        f"{len(result.text) / 1e6:.1f} MB of JSON"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
