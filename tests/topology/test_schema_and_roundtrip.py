"""The committed JSON Schema is what `netseg schema` prints; examples validate against it;
load → canonical dump → load gives an equal model."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from netseg.cli.cmd_schema import render_schema
from netseg.topology import load, loads
from netseg.topology.dump import dumps
from tests.conftest import REPO, example_topologies

SCHEMA_FILE = REPO / "schemas" / "netseg.schema.json"
EXAMPLES = example_topologies()


def test_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == render_schema(), (
        "schemas/netseg.schema.json is stale: run `netseg schema -o schemas/netseg.schema.json`"
    )


def test_schema_is_valid_draft7() -> None:
    jsonschema.Draft7Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_validates_and_matches_the_schema(path: Path) -> None:
    load(path)
    first = path.read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema="), "examples start with a modeline"
    document = yaml.safe_load(path.read_text())
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
@pytest.mark.parametrize("json_form", [False, True], ids=["yaml", "json"])
def test_canonical_dump_round_trips(path: Path, json_form: bool) -> None:
    topology = load(path)
    again = loads(dumps(topology, json_form=json_form), json_form=json_form)
    assert again == topology


def test_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    doc = {"netseg": 1, "name": "x", "hosts": [{"name": "h", "hypervisor": "esxi", "nicz": []}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_json_form_gives_the_same_model_as_yaml() -> None:
    text = """
netseg: 1
name: same
zones: {web: {}}
hosts:
  - name: xen01
    hypervisor: xen
    nics: [{name: eth0}]
    vswitches: [{name: xenbr0, uplinks: [eth0]}]
    management: [{name: xenbr0, vswitch: xenbr0, address: 192.0.2.5/24}]
guests:
  - {name: g1, host: xen01, zone: web, nics: [{vswitch: xenbr0, address: 192.0.2.9/24}]}
"""
    as_yaml = loads(text)
    as_json = loads(json.dumps(yaml.safe_load(text)), json_form=True)
    assert as_yaml == as_json


def test_worked_examples_exist_for_every_hypervisor() -> None:
    hypervisors = {h.hypervisor.value for p in EXAMPLES for h in load(p).hosts}
    assert {"esxi", "hyperv", "xen"} <= hypervisors
