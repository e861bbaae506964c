"""Random and mutated documents never raise anything but TopologyError."""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netseg.errors import TopologyError
from netseg.topology import loads

SEED_DOC: dict[str, Any] = {
    "netseg": 1,
    "name": "seed",
    "zones": {"web": {}, "admin": {}},
    "policy": {"allow": [{"from": "admin", "to": "management", "services": ["tcp/443"]}]},
    "switches": [
        {
            "name": "tor1",
            "ports": [
                {"name": "Eth1/1", "mode": "trunk", "allowed": "10-99", "native": 1},
                {"name": "Eth1/2", "mode": "access", "vlan": 99},
            ],
        }
    ],
    "routers": [
        {
            "name": "fw",
            "interfaces": [
                {"name": "v10", "switch": "tor1", "vlan": 10, "address": "192.0.2.1/26"}
            ],
            "acl": [{"action": "permit", "from": "any", "to": "any", "services": "tcp/22"}],
        }
    ],
    "endpoints": [{"name": "jump", "zone": "admin", "switch": "tor1", "port": "Eth1/2"}],
    "hosts": [
        {
            "name": "esx01",
            "hypervisor": "esxi",
            "nics": [{"name": "vmnic0", "switch": "tor1", "port": "Eth1/1"}],
            "vswitches": [
                {
                    "name": "vSwitch0",
                    "uplinks": ["vmnic0"],
                    "portgroups": [{"name": "mgmt", "vlan": 99}, {"name": "prod", "vlan": 10}],
                }
            ],
            "management": [{"name": "vmk0", "portgroup": "mgmt", "address": "192.0.2.70/26"}],
            "firewall": {"default": "deny", "allow": [{"from": "admin", "services": "tcp/443"}]},
        }
    ],
    "guests": [{"name": "web01", "host": "esx01", "zone": "web", "nics": [{"portgroup": "prod"}]}],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.text(max_size=12),
    st.sampled_from(["any", "all", "tcp/443", "10-20", "none", "192.0.2.1/24", "esx01", "prod"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


ALL_PATHS = [p for p in _paths(SEED_DOC) if p]


def _load_or_error(text: str, json_form: bool) -> None:
    try:
        loads(text, "fuzz.yaml", json_form=json_form)
    except TopologyError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=values)
def test_random_documents_only_raise_topology_errors(doc: Any) -> None:
    _load_or_error(yaml.safe_dump(doc), json_form=False)
    _load_or_error(json.dumps(doc), json_form=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(ALL_PATHS),
    action=st.sampled_from(["delete", "replace"]),
    replacement=values,
)
def test_mutated_valid_documents_only_raise_topology_errors(
    path: tuple[Any, ...], action: str, replacement: Any
) -> None:
    doc = copy.deepcopy(SEED_DOC)
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    _load_or_error(yaml.safe_dump(doc), json_form=False)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_only_raises_topology_errors(text: str) -> None:
    _load_or_error(text, json_form=False)


def test_seed_document_is_valid() -> None:
    loads(json.dumps(SEED_DOC), json_form=True)
