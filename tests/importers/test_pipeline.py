"""The import pipeline every source shares: merge, zone rules, emission with provenance, the
check by the topology loader, and the CLI's handling of options, secrets and bad input.

A small importer written here (a plain-text estate: one entity per line) stands for the real
sources, which have tests of their own under tests/importers/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

import netseg.importers as importers
from netseg.cli.main import main
from netseg.errors import ImportSourceError, TopologyError
from netseg.importers import Imported, ImportRequest, run_import
from netseg.importers.base import merge
from netseg.importers.emit import to_json, to_yaml
from netseg.importers.zones import load_zone_rules
from netseg.topology import loads
from netseg.topology.dump import dumps


class LinesImporter:
    """``guest NAME HOST PORTGROUP MAC`` / ``host NAME PORTGROUP VLAN`` per line."""

    name: ClassVar[str] = "lines"
    options: ClassVar[frozenset[str]] = frozenset({"dialect"})

    def read(self, request: ImportRequest) -> Imported:
        parts = []
        for path in request.inputs:
            out = Imported()
            try:
                lines = Path(path).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ImportSourceError(path, f"cannot read: {exc.strerror}") from None
            for number, line in enumerate(lines, 1):
                words = line.split()
                source = f"{Path(path).name}:{number}"
                if not words:
                    continue
                if words[0] == "host" and len(words) == 4:
                    out.entities("hosts").append(
                        {
                            "name": words[1],
                            "hypervisor": "esxi",
                            "source": source,
                            "vswitches": [
                                {
                                    "name": "vSwitch0",
                                    "portgroups": [
                                        {"name": words[2], "vlan": int(words[3]), "source": source}
                                    ],
                                }
                            ],
                        }
                    )
                elif words[0] == "guest" and len(words) == 5:
                    out.entities("guests").append(
                        {
                            "name": words[1],
                            "host": words[2],
                            "source": source,
                            "nics": [{"portgroup": words[3], "mac": words[4]}],
                            "_facts": {"folder": "Prod/Web" if "web" in words[1] else "Other"},
                        }
                    )
                else:
                    raise ImportSourceError(path, "expected 'host …' or 'guest …'", number)
            parts.append(out)
        return merge(parts)


@pytest.fixture(autouse=True)
def lines_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "BUILTIN", {"lines": f"{__name__}:LinesImporter"})


ESTATE = """\
host esx01 prod 10
guest web01 esx01 prod 00:50:56:00:00:01
guest db01 esx01 prod 00:50:56:00:00:02
"""


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    path = tmp_path / "estate.txt"
    path.write_text(ESTATE, encoding="utf-8")
    return path


def test_yaml_output_validates_and_carries_provenance_on_each_entity_line(estate: Path) -> None:
    result = run_import("lines", ImportRequest((str(estate),)), name="prod")
    lines = result.text.splitlines()
    assert "  - name: esx01  # estate.txt:1" in lines
    assert any(line.endswith("# estate.txt:1") and "prod" in line for line in lines)
    assert "  - name: db01  # estate.txt:3" in lines
    assert "_facts" not in result.text and "Prod/Web" not in result.text
    topology = loads(result.text, "prod.yaml")
    assert [g.name for g in topology.guests] == ["web01", "db01"]
    assert result.counts["guests"] == 2


def test_json_output_keeps_source_and_reads_as_the_same_topology(estate: Path) -> None:
    as_yaml = run_import("lines", ImportRequest((str(estate),)), name="prod")
    as_json = run_import("lines", ImportRequest((str(estate),)), name="prod", json_form=True)
    body = json.loads(as_json.text)
    assert body["guests"][0]["source"] == "estate.txt:2"
    assert list(body["guests"][0])[:2] == ["name", "source"]
    assert dumps(loads(as_yaml.text, "a.yaml")) == dumps(loads(as_json.text, "a.json", True))


def test_same_inputs_give_byte_identical_output(estate: Path) -> None:
    first = run_import("lines", ImportRequest((str(estate),)), name="prod")
    second = run_import("lines", ImportRequest((str(estate),)), name="prod")
    assert first.text == second.text


def test_an_entity_named_twice_across_inputs_is_kept_once_with_a_warning(
    estate: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.txt"
    other.write_text("guest web01 esx01 prod 00:50:56:00:00:09\n", encoding="utf-8")
    result = run_import("lines", ImportRequest((str(estate), str(other))), name="prod")
    assert result.counts["guests"] == 2
    assert [str(w) for w in result.warnings] == [
        "other.txt:1: warning: guest 'web01' was already read from estate.txt:2; keeping that one"
    ]


def test_zone_rules_first_match_wins_and_zones_are_declared(estate: Path, tmp_path: Path) -> None:
    rules = tmp_path / "zones.yaml"
    rules.write_text(
        "zones:\n  web: {description: public tier}\n"
        "rules:\n"
        "  - {zone: web, folder: 'Prod/*'}\n"
        "  - {zone: web-other, name: 'web*'}\n"
        "  - {zone: servers, vlan: '10-19'}\n",
        encoding="utf-8",
    )
    result = run_import(
        "lines", ImportRequest((str(estate),)), name="prod", zones=load_zone_rules(str(rules))
    )
    topology = loads(result.text, "prod.yaml")
    zone_of = {g.name: g.zone for g in topology.guests}
    assert zone_of == {"web01": "web", "db01": "servers"}  # db01 matched by its port group VLAN
    assert '  web: {description: "public tier"}' in result.text.splitlines()
    assert "web-other" not in result.text  # a zone no entity landed in is not declared


def test_a_zone_rules_mistake_is_reported_with_its_line(tmp_path: Path) -> None:
    rules = tmp_path / "zones.yaml"
    rules.write_text("rules:\n  - {zone: web, portgroop: 'web-*'}\n", encoding="utf-8")
    with pytest.raises(TopologyError) as err:
        load_zone_rules(str(rules))
    assert str(err.value).startswith(f"{rules}:2:")
    assert "unknown key 'portgroop'" in str(err.value)


def test_an_invalid_estate_names_the_export_line_behind_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("host esx01 prod 10\nguest web01 esx01 nosuchpg 00:50:56:00:00:01\n")
    for json_form in (False, True):
        with pytest.raises(TopologyError) as err:
            run_import("lines", ImportRequest((str(bad),)), name="x", json_form=json_form)
        assert "no port group 'nosuchpg'" in str(err.value)
        assert "(imported from bad.txt:2)" in str(err.value)


def test_emitter_quotes_what_yaml_would_read_otherwise() -> None:
    doc = {
        "netseg": 1,
        "name": "quoting",
        "hosts": [
            {"name": name, "hypervisor": "xen"}
            for name in (
                "yes",
                "off",
                "null",
                "0123",
                "1e3",
                "a: b",
                "#x",
                "- y",
                "é ü",
                "x\u2028y",
            )
        ],
    }
    for text in (to_yaml(doc), to_json(doc)):
        topology = loads(text, "q.json" if text.startswith("{") else "q.yaml", text[0] == "{")
        assert [h.name for h in topology.hosts] == [h["name"] for h in doc["hosts"]]


# --- the command --------------------------------------------------------------------------------


def test_cli_writes_the_file_and_summarises_on_stderr(
    estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "as-built.yaml"
    assert main(["import", "lines", str(estate), "-o", str(out)]) == 0
    assert "netseg import lines: 1 hosts, 2 guests -> " in capsys.readouterr().err
    assert out.read_text(encoding="utf-8").startswith("# imported by `netseg import lines`")
    assert "\nname: as-built\n" in out.read_text(encoding="utf-8")
    assert main(["validate", str(out)]) == 0


def test_cli_format_follows_the_output_suffix(estate: Path, tmp_path: Path) -> None:
    out = tmp_path / "estate.json"
    assert main(["import", "lines", str(estate), "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["name"] == "estate"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["import", "nosuch", "x"], "nosuch: unknown import source (known: lines)"),
        (["import", "lines", "--server", "vc"], "--server: is not an option of the lines"),
        (["import"], "name a SOURCE: lines"),
        (["import", "lines", "MISSING"], "MISSING: cannot read: No such file or directory"),
        (["import", "--script", "nosuch"], "no such collection script"),
        (["import", "lines", "--hosts-from", "x"], "--hosts-from: is not an option of the lines"),
        (["import", "lines", "-"], "-: netseg import reads files, not standard input"),
    ],
)
def test_cli_bad_use_is_one_message_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_cli_bad_input_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("host esx01 prod 10\nrouter r1\n", encoding="utf-8")
    out = tmp_path / "out.yaml"
    assert main(["import", "lines", str(bad), "-o", str(out)]) == 2
    assert f"{bad}:2: expected 'host …' or 'guest …'" in capsys.readouterr().err
    assert not out.exists()


def test_a_switch_port_read_twice_names_both_readings() -> None:
    from netseg.importers.base import Imported, merge

    first = Imported(
        {
            "switches": [
                {
                    "name": "sw1",
                    "source": "sw1.eos:4",
                    "ports": [{"name": "Ethernet1", "source": "sw1.eos:16"}],
                }
            ]
        }
    )
    again = Imported({"switches": [{"name": "sw1", "source": "estate.yaml switches[0]",
                                    "ports": [{"name": "Ethernet1"}]}]})  # fmt: skip
    assert [str(w) for w in merge([first, again]).warnings] == [
        "estate.yaml switches[0]: warning: port sw1:Ethernet1 was already read from "
        "sw1.eos:16; keeping that one"
    ]
