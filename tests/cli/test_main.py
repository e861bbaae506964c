"""The entry point's exit codes: a bug in netseg is exit 3 and one line, never 'findings'."""

from __future__ import annotations

import argparse

import pytest

from netseg.cli import cmd_rules
from netseg.cli.main import main


@pytest.mark.parametrize(
    "error", [RuntimeError("boom\nsecond line"), MemoryError(), KeyError("x")], ids=repr
)
def test_an_unexpected_error_is_exit_3_and_one_line(
    error: BaseException, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(args: argparse.Namespace) -> int:
        raise error

    monkeypatch.setattr(cmd_rules, "run", fail)
    monkeypatch.delenv("NETSEG_DEBUG", raising=False)
    capsys.readouterr()
    assert main(["rules"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "netseg itself failed" in err and "report" in err
