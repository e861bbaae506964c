"""Readers produce one marked document, includes merged; it is checked once and built."""

from __future__ import annotations

from pathlib import Path

import pytest

from netseg.errors import TopologyError
from netseg.topology import (
    Document,
    JsonReader,
    YamlReader,
    build_document,
    load,
    read,
    reader_for,
)
from netseg.topology.source import parse
from netseg.topology.spec import Problems

MAIN = """netseg: 1
name: lab
zones: {web: {}}
hosts:
  - name: xen1
    hypervisor: xen
    nics: [{name: eth0}]
    vswitches: [{name: xenbr0, type: bridge, uplinks: [eth0]}]
include: [more.yaml]
"""


def test_the_native_readers_are_chosen_by_name(tmp_path: Path) -> None:
    assert isinstance(reader_for(tmp_path / "t.yaml"), YamlReader)
    assert isinstance(reader_for(tmp_path / "t.JSON"), JsonReader)
    assert type(reader_for("git:HEAD:t.yaml")).__name__ == "GitReader"


def test_includes_are_merged_into_one_document_before_it_is_checked(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(MAIN)
    (tmp_path / "more.yaml").write_text(
        "guests:\n  - {name: g1, host: xen1, zone: web, nics: [{vswitch: xenbr0}]}\n"
    )
    doc = YamlReader(tmp_path / "main.yaml").read()
    assert [g["name"] for g in doc.root["guests"]] == ["g1"]
    assert not doc.problems
    assert [g.name for g in build_document(doc).guests] == ["g1"]


def test_a_problem_in_an_included_item_names_the_included_file(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(MAIN)
    (tmp_path / "more.yaml").write_text("guests:\n  - not a guest\n")
    with pytest.raises(TopologyError) as info:
        load(tmp_path / "main.yaml")
    (problem,) = info.value.problems
    assert problem.file.endswith("more.yaml") and problem.line == 2
    assert problem.path == "guests[0]"


def test_an_include_header_is_still_checked(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(MAIN)
    (tmp_path / "more.yaml").write_text("nmae: x\nguests: []\n")
    with pytest.raises(TopologyError, match="unknown key 'nmae'") as info:
        load(tmp_path / "main.yaml")
    assert info.value.problems[0].file.endswith("more.yaml")


def test_build_document_takes_a_bare_marked_tree() -> None:
    root = parse(MAIN.replace("include: [more.yaml]\n", ""), "inline.yaml")
    assert build_document(root).name == "lab"


def test_any_reader_implementing_the_protocol_feeds_the_same_check() -> None:
    class Fixed:
        def read(self) -> Document:
            root = parse("netseg: 1\nname: x\nhosts: []\nguests: 3\n", "fixed.yaml")
            return Document(root, "fixed.yaml", Problems("fixed.yaml"))

    with pytest.raises(TopologyError, match="guests"):
        read(Fixed())


def test_document_checks_run_once_on_the_checked_document() -> None:
    seen = []

    def check(doc: object, problems: Problems) -> None:
        seen.append(doc)

    root = parse("netseg: 1\nname: x\nhosts: []\n", "c.yaml")
    build_document(root, checks=[check])
    assert seen == [root]


def test_the_format_loader_leaves_rule_ids_to_the_rules() -> None:
    import netseg
    from netseg.topology import loads

    text = "netseg: 1\nname: x\nhosts: []\npolicy: {severity: {no-such-rule: low}}\n"
    assert loads(text).name == "x"
    with pytest.raises(TopologyError, match="unknown rule 'no-such-rule'"):
        netseg.loads(text)
