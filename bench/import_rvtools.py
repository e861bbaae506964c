"""Time ``netseg import rvtools`` on a generated 1,000-host / 50,000-VM RVTools workbook.

    python -m bench.import_rvtools [--hosts 1000] [--vms-per-host 50] [--reader calamine|openpyxl]

The workbook is written once with openpyxl's write-only mode (the columns of RVTools 4.x, vInfo
padded to the ~90 columns a real export has) and cached outside the repository, in
``$XDG_CACHE_HOME/netseg-bench`` (default ``~/.cache/netseg-bench``). The import runs the whole
pipeline (read, join, JSON, the topology loader's check) and prints seconds and peak RSS.
``--reader openpyxl`` measures the import without python-calamine (the pure-Python path).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import openpyxl

from tests.importers.rvtools_fixtures import LAYOUT

VINFO_WIDTH = 90  # RVTools 4.x writes about 90 vInfo columns
HOSTS_PER_CLUSTER = 20
DV_PORTGROUPS = 40


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "netseg-bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _ip(n: int) -> str:
    # 10.0.0.0/8 for the generated estate (its size exceeds the documentation ranges)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def generate(path: Path, hosts: int, vms_per_host: int) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheets = {tab: book.create_sheet(tab) for tab in LAYOUT}
    info_headers = LAYOUT["vInfo"] + [f"Extra column {i}" for i in range(VINFO_WIDTH)]
    info_headers = info_headers[:VINFO_WIDTH]
    headers = {tab: list(h) for tab, h in LAYOUT.items()}
    headers["vInfo"] = info_headers

    def put(tab: str, values: dict[str, object]) -> None:
        sheets[tab].append(
            [values.get(h, f"x{len(h)}" if h.startswith("Extra") else None) for h in headers[tab]]
        )

    for tab, sheet in sheets.items():
        sheet.append(headers[tab])
    clusters = (hosts + HOSTS_PER_CLUSTER - 1) // HOSTS_PER_CLUSTER
    for c in range(clusters):
        members = [
            f"esx{h:04d}.example.com"
            for h in range(c * HOSTS_PER_CLUSTER, min(hosts, (c + 1) * HOSTS_PER_CLUSTER))
        ]
        put(
            "dvSwitch",
            {
                "Switch": f"dvs-c{c:03d}",
                "Name": f"dvs-c{c:03d}",
                "Host members": ", ".join(members),
            },
        )
        put(
            "dvPort",
            {
                "Port": f"dvs-c{c:03d}-DVUplinks",
                "Switch": f"dvs-c{c:03d}",
                "VLAN": "0-4094",
                "Uplink": True,
            },
        )
        for p in range(DV_PORTGROUPS):
            vlan: object = 1000 + p if p else "100-199"
            put(
                "dvPort",
                {
                    "Port": f"c{c:03d}-net{p:02d}",
                    "Switch": f"dvs-c{c:03d}",
                    "VLAN": vlan,
                    "Allow Promiscuous": False,
                    "Mac Changes": False,
                    "Forged Transmits": p % 7 == 0,
                    "Uplink": False,
                },
            )
    vm = 0
    for h in range(hosts):
        host = f"esx{h:04d}.example.com"
        c = h // HOSTS_PER_CLUSTER
        put(
            "vSwitch",
            {
                "Host": host,
                "Switch": "vSwitch0",
                "Promiscuous Mode": False,
                "Mac Changes": False,
                "Forged Transmits": h % 3 == 0,
            },
        )
        for pg, vlan in (
            ("Management Network", 10),
            ("vMotion", 20),
            ("VM Network", 0),
            ("sniffer", 4095),
        ):
            put(
                "vPort",
                {
                    "Host": host,
                    "Port Group": pg,
                    "Switch": "vSwitch0",
                    "VLAN": vlan,
                    "Promiscuous Mode": True if pg == "sniffer" else None,
                },
            )
        for i, (pg, services) in enumerate(
            (
                ("Management Network", "Management"),
                ("vMotion", "vMotion"),
                (f"c{c:03d}-net01", "vSAN"),
            )
        ):
            put(
                "vSC_VMK",
                {
                    "Host": host,
                    "Port Group": pg,
                    "Device": f"vmk{i}",
                    "Mac Address": f"00:50:56:6{i}:{h >> 8:02x}:{h & 255:02x}",
                    "IP Address": _ip((i + 1) << 16 | h),
                    "Subnet mask": "255.255.0.0",
                    "Services": services,
                },
            )
        for n in range(4):
            put(
                "vNIC",
                {
                    "Host": host,
                    "Network Device": f"vmnic{n}",
                    "Switch": "vSwitch0" if n < 2 else f"dvs-c{c:03d}",
                    "PCI": f"0000:{n + 24:02x}:00.0",
                },
            )
        for _ in range(vms_per_host):
            vm += 1
            name = f"vm{vm:06d}"
            put(
                "vInfo",
                {
                    "VM": name,
                    "Powerstate": "poweredOn",
                    "Template": False,
                    "Host": host,
                    "Folder": f"Prod/App{vm % 17}",
                    "Annotation": "generated",
                    "owner": f"team{vm % 9}",
                    "VM ID": f"vm-{vm}",
                    "VM UUID": f"uuid-{vm}",
                },
            )
            for k in range(1 + vm % 2):
                put(
                    "vNetwork",
                    {
                        "VM": name,
                        "NIC label": f"Network adapter {k + 1}",
                        "Network": f"c{c:03d}-net{(vm + k) % DV_PORTGROUPS:02d}",
                        "Switch": f"dvs-c{c:03d}",
                        "Mac Address": f"00:50:56:{(vm >> 16) & 255:02x}:{(vm >> 8) & 255:02x}:{vm & 255:02x}".replace(
                            "00:50:56", f"00:50:5{6 + k}"
                        ),
                        "IPv4 Address": _ip(0x800000 + vm * 2 + k),
                        "Host": host,
                        "VM ID": f"vm-{vm}",
                        "VM UUID": f"uuid-{vm}",
                    },
                )
    book.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms-per-host", type=int, default=50)
    parser.add_argument("--reader", choices=["calamine", "openpyxl"], default="calamine")
    args = parser.parse_args(argv)
    path = cache_dir() / f"rvtools-{args.hosts}x{args.vms_per_host}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial.xlsx")
        generate(partial, args.hosts, args.vms_per_host)
        partial.replace(path)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    from netseg.importers import ImportRequest, run_import, rvtools

    if args.reader == "openpyxl":
        rvtools._read_with_calamine = rvtools._read_with_openpyxl  # type: ignore[assignment]
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    result = run_import("rvtools", ImportRequest((str(path),)), name="bench", json_form=True)
    total = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    started = time.perf_counter()
    rows = sum(len(t.rows) for t in rvtools.read_tabs(str(path)).values())
    read = time.perf_counter() - started
    print(
        f"rvtools ({args.reader}): {args.hosts} hosts, {result.counts['guests']} guests: "
        f"import {total:.1f} s (read + join + JSON + check; {cpu:.1f} s CPU), peak RSS {rss:.0f} MB; "
        f"reading the {rows} rows alone {read:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
