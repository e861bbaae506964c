"""govmomi's vCenter simulator, shaped by an estate file, for the vcenter importer.

``tests/importers/vcsim/main.go`` is built offline in GOPATH mode against Debian's
golang-github-vmware-govmomi-dev (govmomi 0.24), into a cache folder keyed by the hash of the
source and of ``go version``, so the ~30 s build happens once per change. The tests' fixture, the
worked example (scripts/vcenter_example.py) and bench/import_vcenter.py all use it::

    binary = build()                       # or a str: why it cannot be built here
    with serve(binary, "estate.json") as sim:
        sim.server, sim.user, sim.password  # 127.0.0.1:PORT, over HTTPS, self-signed
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "tests" / "importers" / "vcsim" / "main.go"
GOPATH = Path("/usr/share/gocode")
SIMULATOR = GOPATH / "src" / "github.com" / "vmware" / "govmomi" / "simulator"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "netseg" / "vcsim"


def build() -> Path | str:
    """The simulator binary, built when its source changed; a reason string when it cannot be
    built here (no Go toolchain, no govmomi sources)."""
    go = shutil.which("go")
    if go is None:
        return "go is not installed (Debian package golang-go)"
    if not SIMULATOR.is_dir():
        return f"govmomi's simulator is not in {SIMULATOR} (golang-github-vmware-govmomi-dev)"
    version = subprocess.run([go, "version"], capture_output=True, text=True).stdout
    digest = hashlib.sha256(SOURCE.read_bytes() + version.encode()).hexdigest()[:16]
    target = cache_dir() / f"vcsim-{digest}"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    env = {
        **os.environ,
        "GOPATH": str(GOPATH),
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOCACHE": str(target.parent / "go-build"),
        "CGO_ENABLED": "0",
    }
    done = subprocess.run(
        [go, "build", "-o", str(partial), SOURCE.name],
        cwd=SOURCE.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        return f"building {SOURCE.name} failed: {done.stderr.strip()[-2000:]}"
    partial.replace(target)
    return target


@dataclass(frozen=True)
class Simulator:
    server: str  # 127.0.0.1:PORT
    user: str
    password: str
    seconds: float  # building the estate in the simulator


@contextmanager
def serve(binary: Path, estate: Path, timeout: float = 900.0) -> Iterator[Simulator]:
    """Run the simulator on an estate file until the block ends."""
    started = time.perf_counter()
    # stderr to a file: a pipe could fill up and stall the simulator
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            [str(binary), str(estate)], stdout=subprocess.PIPE, stderr=log, text=True
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # printed once the estate is built
            if not line:
                log.seek(0)
                err = log.read().strip()[-2000:]
                raise RuntimeError(f"vcsim exited ({proc.wait(timeout)}): {err}")
            url = urlsplit(line.strip())
            yield Simulator(
                f"{url.hostname}:{url.port}",
                unquote(url.username or ""),
                unquote(url.password or ""),
                time.perf_counter() - started,
            )
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
