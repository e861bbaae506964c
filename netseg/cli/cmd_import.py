"""``netseg import SOURCE INPUT…``: a topology from what administrators already export."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import netseg.importers as importers
from netseg.cli.common import write_output
from netseg.errors import ImportSourceError
from netseg.importers import ImportRequest, importer, run_import
from netseg.importers.zones import load_zone_rules

HELP = "a topology from RVTools, vCenter, Hyper-V, XAPI, libvirt, OVS, switch configs or NetBox"

# option -> (environment variable, what to ask for on a terminal): never taken as an argument
SECRETS = {
    "password": ("NETSEG_VCENTER_PASSWORD", "vCenter password"),
    "token": ("NETSEG_NETBOX_TOKEN", "NetBox API token"),
}
# source-specific options: the dest of each, as the importers' `options` name them
SOURCE_OPTIONS = (
    "server",
    "user",
    "insecure",
    "dialect",
    "hosts_from",
    "connect",
    "db",
    "url",
    "host",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        nargs="?",
        metavar="SOURCE",
        help="where the estate comes from: " + ", ".join(sorted(importers.BUILTIN)),
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="exported files or folders")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically)")
    parser.add_argument(
        "--format",
        choices=["yaml", "json"],
        default=None,
        help="output format (default: from the suffix of -o, else yaml)",
    )
    parser.add_argument("--name", help="topology name (default: the output or input file name)")
    parser.add_argument(
        "--zones", metavar="RULES.yaml", help="assign guests to zones by rules, first match wins"
    )
    group = parser.add_argument_group("source options")
    group.add_argument("--server", metavar="HOST[:PORT]", help="vcenter: the vCenter to read")
    group.add_argument("--user", help="vcenter: user name (password: NETSEG_VCENTER_PASSWORD)")
    group.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="vcenter: accept a self-signed or otherwise unverifiable certificate",
    )
    group.add_argument(
        "--dialect", choices=["ios", "nxos", "eos", "junos"], help="switch: force the dialect"
    )
    group.add_argument(
        "--hosts-from",
        metavar="TOPOLOGY",
        action="append",
        help="switch: a topology another import wrote; its host NICs are cabled from the "
        "LLDP/CDP neighbour tables and it is carried into the output (repeat it for the "
        "imports of several sources: a mixed estate)",
    )
    group.add_argument("--connect", metavar="URI", help="libvirt: ask a running libvirt (virsh)")
    group.add_argument("--db", metavar="unix:PATH", help="ovs: read a running OVS database")
    group.add_argument(
        "--host",
        metavar="NAME",
        help="libvirt, ovs: the host the inputs describe (default: what the source says)",
    )
    group.add_argument("--url", help="netbox: the NetBox to read (token: NETSEG_NETBOX_TOKEN)")
    group.add_argument(
        "--script",
        metavar="NAME",
        help="print a collection script netseg ships (e.g. hyperv) and exit",
    )


def run(args: argparse.Namespace) -> int:
    if args.script:
        return _print_script(args.script)
    if not args.source:
        raise ImportSourceError(
            "netseg import", "name a SOURCE: " + ", ".join(sorted(importers.BUILTIN))
        )
    source: str = args.source
    chosen = importer(source)
    if "-" in args.inputs or "-" in (args.hosts_from or ()):
        # a source is recognised by its file name and folder (the host, the switch) as much as
        # by its content: standard input has neither
        raise ImportSourceError(
            "-", "netseg import reads files, not standard input: save the export to a file"
        )
    options: dict[str, Any] = {}
    for key in SOURCE_OPTIONS:
        value = getattr(args, key)
        if value is None:
            continue
        if key not in chosen.options:
            raise ImportSourceError(
                f"--{key.replace('_', '-')}",
                f"is not an option of the {source} importer (see netseg import -h)",
            )
        options[key] = value
    for key, (variable, prompt) in SECRETS.items():
        if key in chosen.options:
            secret = _secret(variable, prompt, needed=_live(options))
            if secret is not None:
                options[key] = secret
    fmt = args.format or ("json" if (args.output or "").lower().endswith(".json") else "yaml")
    name = args.name or _default_name(args.output, args.inputs, source)
    zones = load_zone_rules(args.zones) if args.zones else None
    request = ImportRequest(tuple(args.inputs), options)
    display = args.output or "<stdout>"
    header = f"imported by `netseg import {source}` ({', '.join(_shown_inputs(args, options))})"
    result = run_import(
        source,
        request,
        name=name,
        json_form=fmt == "json",
        zones=zones,
        display=display,
        header=header,
    )
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    write_output(result.text, args.output)
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items() if n)
    print(
        f"netseg import {source}: {counts or 'nothing'}"
        + (f" -> {args.output}" if args.output else "")
        + (f" ({len(result.warnings)} warnings)" if result.warnings else ""),
        file=sys.stderr,
    )
    return 0


def _live(options: dict[str, Any]) -> bool:
    # a live source needs its secret; a source read from saved files does not
    return bool(options.get("server") or options.get("url"))


def _secret(variable: str, prompt: str, needed: bool) -> str | None:
    value = os.environ.get(variable)
    if value:
        return value
    if not needed:
        return None
    if sys.stdin.isatty():
        return getpass.getpass(f"{prompt}: ")
    raise ImportSourceError(
        variable, f"is not set, and standard input is not a terminal to ask for the {prompt}"
    )


def _shown_inputs(args: argparse.Namespace, options: dict[str, Any]) -> list[str]:
    shown = [Path(i).name for i in args.inputs]
    for key in ("server", "connect", "db", "url"):
        if options.get(key):
            shown.append(f"--{key} {options[key]}")
    return shown or ["no inputs"]


def _default_name(output: str | None, inputs: list[str], source: str) -> str:
    for candidate in (output, *inputs):
        if candidate and candidate != "-":
            stem = Path(candidate).name.split(".")[0]
            if stem:
                return stem
    return source


def _print_script(name: str) -> int:
    scripts = resources.files("netseg.importers") / "scripts"
    known = sorted(p.name.split(".")[0] for p in scripts.iterdir()) if scripts.is_dir() else []
    for entry in scripts.iterdir() if scripts.is_dir() else ():
        if entry.name.split(".")[0] == name:
            write_output(entry.read_text(encoding="utf-8"), None)
            return 0
    raise ImportSourceError(
        f"--script {name}", f"no such collection script (shipped: {', '.join(known) or 'none'})"
    )
