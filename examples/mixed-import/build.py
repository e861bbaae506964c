"""Build the mixed worked example end to end: every import, then the check and the diff.

    python3 examples/mixed-import/build.py              # from the saved inputs
    python3 examples/mixed-import/build.py --rebuild-ovs   # first rebuild inputs/xen-lab/ovs.json
                                                           # on a real ovsdb-server (ovsdb.py)

Each step is the `netseg` command an administrator would type, run from this folder and printed
before its output. The imports write imported/*.yaml; `netseg check lab.yaml` is expected to
exit 1 (the estate has the findings the example is meant to show) and `netseg diff` too (the
deployment opened what the design kept closed). Exits 2 when a step fails otherwise.
See docs/importing.md, "A mixed estate, end to end".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (argv after `netseg`, the exit codes that mean the step did its job)
STEPS: list[tuple[list[str], tuple[int, ...]]] = [
    (["import", "hyperv", "inputs/hv-lab.json", "--zones", "zones.yaml",
      "-o", "imported/hv-lab.yaml"], (0,)),
    (["import", "libvirt", "inputs/xen-lab", "--zones", "zones.yaml",
      "-o", "imported/xen-lab.yaml"], (0,)),
    (["import", "switch", "inputs/sw1.eos", "inputs/sw1.lldp.txt",
      "--hosts-from", "imported/hv-lab.yaml", "--hosts-from", "imported/xen-lab.yaml",
      "-o", "imported/estate.yaml"], (0,)),
    (["validate", "lab.yaml"], (0,)),
    (["check", "lab.yaml"], (0, 1)),
    (["diff", "design.yaml", "lab.yaml"], (0, 1)),
]  # fmt: skip

IMPORTED = ("imported/hv-lab.yaml", "imported/xen-lab.yaml", "imported/estate.yaml")


def main(argv: list[str]) -> int:
    from netseg.cli.main import main as netseg

    os.chdir(HERE)
    if "--rebuild-ovs" in argv:
        sys.path.insert(0, str(HERE))
        import ovsdb

        why = ovsdb.missing()
        if why:
            print(f"build.py: cannot rebuild the OVS database: {why}", file=sys.stderr)
            return 2
        print("$ python3 ovsdb.py inputs/xen-lab/ovs.json", flush=True)
        Path("inputs/xen-lab/ovs.json").write_text(ovsdb.lists(), encoding="utf-8")
    for args, expected in STEPS:
        print("$ netseg " + " ".join(a if " " not in a else repr(a) for a in args), flush=True)
        code = netseg(args)
        sys.stdout.flush()
        sys.stderr.flush()
        if code not in expected:
            print(f"build.py: `netseg {args[0]}` exited {code}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
