"""``--help`` of the command and of every sub-command renders (argparse %-formats help strings)."""

import argparse

import pytest

from fewshot_nsl.cli.main import build_parser, main


def _subcommand_names() -> list[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(actions[0].choices)


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    names = _subcommand_names()
    assert {"train", "eval", "leaderboard", "plot"} <= set(names)
    assert all(name in out for name in names)
    assert "95% CI" in out


@pytest.mark.parametrize("name", _subcommand_names())
def test_subcommand_help(capsys, name):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: fewshot-nsl {name}")
