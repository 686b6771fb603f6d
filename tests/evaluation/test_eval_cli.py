"""The ``episodes``, ``plot`` and ``leaderboard`` sub-commands' parsers and handlers."""

import argparse
import json
import sys

import pytest

from fewshot_nsl.cli import episodes as episodes_cli
from fewshot_nsl.cli import leaderboard as leaderboard_cli
from fewshot_nsl.cli import plot as plot_cli
from fewshot_nsl.episodes.files import read_episode_file
from fewshot_nsl.core.errors import ConfigError, DataError, FewShotError


def cli(module, argv):
    parser = argparse.ArgumentParser(prog="fewshot-nsl")
    module.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_episodes_make_and_show(tmp_path, capsys):
    out = tmp_path / "e.json.gz"
    argv = ["episodes", "make", "--dataset", "synthetic", "--split", "val", "--way", "4", "--shot", "2",
            "--query", "3", "--episodes", "7", "--seed", "5", "--out", str(out)]
    assert cli(episodes_cli, argv) == 0
    ef = read_episode_file(out)
    settings = (ef.dataset, ef.split, ef.way, ef.shot, ef.query, ef.episodes, ef.seed)
    assert settings == ("synthetic", "val", 4, 2, 3, 7, 5)
    first = out.read_bytes()
    assert cli(episodes_cli, argv) == 0 and out.read_bytes() == first
    capsys.readouterr()
    assert cli(episodes_cli, ["episodes", "show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "way: 4" in shown and "episode 0:" in shown and shown.count("  label ") == 4


def test_episodes_make_refuses_bad_sizes(tmp_path):
    with pytest.raises(ConfigError, match="--way must be >= 1"):
        cli(episodes_cli, ["episodes", "make", "--dataset", "synthetic", "--way", "0", "--out", str(tmp_path / "x")])
    with pytest.raises(DataError, match="way 40 is larger than the 16 classes"):
        cli(episodes_cli, ["episodes", "make", "--dataset", "synthetic", "--split", "val", "--way", "40",
                           "--out", str(tmp_path / "x")])


def write_run(folder, scale):
    folder.mkdir()
    lines = [{"step": s, "episode": s * 10, "loss": 2.0 / s, "accuracy": 0.2 * scale, "lr": 1e-3}
             for s in range(1, 6)]
    lines.append({"step": 5, "episode": 50, "val_accuracy": 0.45 * scale, "val_ci95": 0.01 * scale})
    (folder / "metrics.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    write_run(tmp_path / "a", 1.0)
    write_run(tmp_path / "b", 0.9)  # metrics.jsonl holds fractions; the axis shows percent
    out = tmp_path / "curves.png"
    assert cli(plot_cli, ["plot", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_errors_are_one_line(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="holds no metrics.jsonl"):
        cli(plot_cli, ["plot", str(tmp_path)])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "metrics.jsonl").write_text('{"step": 1}\n{oops\n')
    with pytest.raises(DataError, match="line 2 is not JSON"):
        cli(plot_cli, ["plot", str(bad)])
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    write_run(tmp_path / "ok", 1.0)
    with pytest.raises(FewShotError, match=r"pip install 'fewshot-nsl\[plot\]'"):
        cli(plot_cli, ["plot", str(tmp_path / "ok")])


def test_leaderboard_parser_defaults_and_checks(tmp_path):
    parser = argparse.ArgumentParser()
    leaderboard_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["leaderboard", "--out", str(tmp_path)])
    assert (args.dataset, args.budget, args.way, args.shot, args.query) == ("mini-imagenet", "smoke", 5, 5, 15)
    with pytest.raises(SystemExit):
        parser.parse_args(["leaderboard", "--out", str(tmp_path), "--budget", "huge"])
    args = parser.parse_args(["leaderboard", "--out", str(tmp_path), "--shot", "0"])
    with pytest.raises(ConfigError, match="--shot must be >= 1"):
        args.func(args)
