"""The JavaScript renderers the export tests drive in headless Chromium: the npm packages
``mxgraph`` (JGraph's mxGraph, what diagrams.net draws with) and ``mermaid``, installed with
npm into a cache outside the repository (``$NETSEG_NPM_CACHE``, default
``~/.cache/netseg-npm``) on first use. Tests skip with the reason when npm or Chromium is
missing, or the package cannot be installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGES = {"mxgraph": "4.2.2", "mermaid": "10.9.8"}
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)


def cache_dir() -> Path:
    return Path(os.environ.get("NETSEG_NPM_CACHE", Path.home() / ".cache" / "netseg-npm"))


def package(name: str) -> Path:
    """node_modules/NAME, installed with npm when absent; skips the test when it cannot be."""
    where = cache_dir() / "node_modules" / name
    if (where / "package.json").exists():
        return where
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(f"npm is not installed: cannot fetch the {name} package to render with")
    cache_dir().mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(cache_dir()),
            f"{name}@{PACKAGES[name]}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0 or not (where / "package.json").exists():
        pytest.skip(f"npm could not install {name}@{PACKAGES[name]}: {proc.stderr.strip()[-300:]}")
    return where


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Debian Chromium on a fresh profile, nothing fetched in the background."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
