"""The distribution's name: `netseg` on the public index is someone else's project."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO


def test_the_distribution_is_netseg_hv_and_the_command_netseg() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == "netseg-hv"
    assert project["scripts"] == {"netseg": "netseg.cli.main:main"}


def test_no_document_tells_users_to_install_the_unrelated_netseg() -> None:
    bare = re.compile(r"pip install ['\"]?netseg(\[[a-z,]+\])?['\"]?(?=\s|$|`)", re.M)
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = doc.read_text()
        hits = [
            m.group(0)
            for m in bare.finditer(text)
            if "do not" not in text[max(0, m.start() - 12) : m.start()]
        ]
        assert not hits, f"{doc.name} tells users to {hits[0]!r}"
