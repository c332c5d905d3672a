"""Ctrl-C before a command's work is recorded says what the interruption left, per command."""

from __future__ import annotations

import pytest

from enroll import cli


def interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("command", "handler", "said"),
    [
        ("verify", "command_verify", "interrupted: the canaries already sent stay"),
        ("doctor", "command_doctor", "interrupted: the --fix calls already made stay"),
        ("coverage", "command_coverage", "interrupted: nothing was changed"),
    ],
)
def test_an_interrupted_command_exits_130_and_says_what_it_left(
    monkeypatch, capsys, command, handler, said
):
    monkeypatch.setattr(cli, handler, interrupt)
    assert cli.main([command]) == 130
    assert said in capsys.readouterr().err


def test_an_interrupted_run_before_its_stacks_says_none_ran(monkeypatch, capsys):
    monkeypatch.setattr(cli, "command_run", interrupt)
    assert cli.main(["preview", "--offline"]) == 130
    assert "interrupted: before any stack ran" in capsys.readouterr().err
