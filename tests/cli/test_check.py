"""``netseg check``: formats, output file, exit codes (0 clean, 1 findings at or above
--fail-on, 2 invalid input) through the real entry point."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from netseg.cli.main import main
from tests.render.sample import SAMPLE

CLEAN = """\
netseg: 1
name: clean
hosts:
  - name: esx01
    hypervisor: esxi
    firewall: {default: deny, allow: [{from: management, services: tcp/443}]}
"""


@pytest.fixture
def sample_file(tmp_path: Path) -> Path:
    path = tmp_path / "sample.yaml"
    path.write_text(SAMPLE, encoding="utf-8")
    return path


@pytest.fixture
def clean_file(tmp_path: Path) -> Path:
    path = tmp_path / "clean.yaml"
    path.write_text(CLEAN, encoding="utf-8")
    return path


def test_findings_at_or_above_fail_on_exit_1(
    sample_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(sample_file)]) == 1
    out = capsys.readouterr().out
    assert "passthrough-without-iommu" in out and "CRITICAL (1)" in out


def test_fail_on_critical_with_only_a_waived_medium_and_infos_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SAMPLE.replace("    iommu: false\n", "").replace(
        "    vswitches:",
        "    firewall: {default: deny}\n    vswitches:",
    )
    path = tmp_path / "waived.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["check", str(path), "--fail-on", "low"]) == 0
    assert main(["check", str(path), "--fail-on", "info"]) == 1
    capsys.readouterr()


def test_clean_topology_exits_0(clean_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(clean_file), "--fail-on", "low"]) == 0
    assert "Summary:" in capsys.readouterr().out


def test_invalid_topology_exits_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("netseg: 1\nname: bad\nhosts:\n  - {name: h, hypervisor: vmware}\n")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4:" in err and "Traceback" not in err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_unknown_fail_on_is_a_usage_error(sample_file: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", str(sample_file), "--fail-on", "severe"])
    assert exc.value.code == 2


def test_json_to_output_file(sample_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "findings.json"
    assert main(["check", str(sample_file), "--format", "json", "-o", str(out)]) == 1
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["topology"]["file"] == str(sample_file)
    assert doc["summary"]["critical"] == 1


def test_sarif_and_junit(
    sample_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(sample_file), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    junit = tmp_path / "report.xml"
    assert main(["check", str(sample_file), "--format", "junit", "-o", str(junit)]) == 1
    assert ET.parse(junit).getroot().get("failures") == "2"


def test_text_has_no_colour_when_piped_or_with_no_color(
    sample_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    main(["check", str(sample_file)])
    assert "\x1b[" not in capsys.readouterr().out


def test_rules_command_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    text = capsys.readouterr().out
    assert "guest-reaches-management" in text and "observed-double-tag" in text
    assert main(["rules", "--format", "json", "--kind", "design"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ids = [r["id"] for r in doc["rules"]]
    assert "passthrough-without-iommu" in ids and "observed-double-tag" not in ids
    assert all(r["help"] for r in doc["rules"])
