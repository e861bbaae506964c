#!/usr/bin/env python3
"""The worked example of docs/importing.md (vcenter): a vCenter estate shaped like
topologies/esxi-cluster.yaml, as deployed, built in govmomi's simulator from
tests/importers/vcsim/esxi_cluster_estate.json, imported with `netseg import vcenter`, then
compared with the design by `netseg diff`: the import alone, then the design's policy over the
import (estate.yaml `include`s as-built.yaml).

    .venv/bin/python scripts/vcenter_example.py [--out DIR]

Needs Go and Debian's golang-github-vmware-govmomi-dev (the simulator is built once, ~30 s).
Prints each command with its real output; the files are left in DIR (default: a temporary
folder).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.vcsim import build, serve  # noqa: E402

ESTATE = ROOT / "tests" / "importers" / "vcsim" / "esxi_cluster_estate.json"
ZONES = ROOT / "tests" / "importers" / "vcsim" / "esxi_cluster_zones.yaml"
INTENT = ROOT / "tests" / "importers" / "vcsim" / "esxi_cluster_estate.yaml"
DESIGN = ROOT / "topologies" / "esxi-cluster.yaml"
NETSEG = [sys.executable, "-c", "import sys; from netseg.cli.main import main; sys.exit(main())"]


def run(shown: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
    print(f"$ {shown}")
    done = subprocess.run(NETSEG + args, env=env, cwd=cwd, capture_output=True, text=True)
    sys.stdout.write(done.stderr + done.stdout)
    print(f"(exit {done.returncode})\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where to leave as-built.yaml (default: a temp dir)")
    args = parser.parse_args()
    binary = build()
    if isinstance(binary, str):
        print(f"cannot run the example: {binary}", file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="netseg-vcenter-"))
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(DESIGN, out / "esxi-cluster.yaml")
    shutil.copy(ZONES, out / "zones.yaml")
    shutil.copy(INTENT, out / "estate.yaml")
    with serve(binary, ESTATE) as sim:
        env = {**os.environ, "NETSEG_VCENTER_PASSWORD": sim.password, "PYTHONPATH": str(ROOT)}
        print(f"# vCenter simulator at {sim.server}, user {sim.user}\n")
        run(
            f"netseg import vcenter --server vcenter.example.net --user {sim.user} --insecure "
            "--zones zones.yaml -o as-built.yaml",
            ["import", "vcenter", "--server", sim.server, "--user", sim.user, "--insecure",
             "--zones", "zones.yaml", "-o", "as-built.yaml"],
            env,
            out,
        )
    run("netseg validate as-built.yaml", ["validate", "as-built.yaml"], env, out)
    run(
        "netseg diff esxi-cluster.yaml as-built.yaml",
        ["diff", "esxi-cluster.yaml", "as-built.yaml"],
        env,
        out,
    )
    run(
        "netseg diff esxi-cluster.yaml estate.yaml",
        ["diff", "esxi-cluster.yaml", "estate.yaml"],
        env,
        out,
    )
    print(f"# files in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
