"""A command imports only what it uses: `netseg --version` loads no topology, model, numpy or
capture code, and `netseg replay` none of the other commands."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from netseg.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_version_imports_nothing_heavy() -> None:
    loaded = _modules_after(["--version"])
    for heavy in ("numpy", "networkx", "netseg.topology", "netseg.model", "netseg.capture"):
        assert heavy not in loaded


def test_a_command_imports_only_its_own_module() -> None:
    loaded = _modules_after(["schema", "--help"])
    assert "netseg.cli.cmd_schema" in loaded
    assert not {
        m for m in loaded if m.startswith("netseg.cli.cmd_") and m != "netseg.cli.cmd_schema"
    }
    assert "netseg.capture" not in loaded
