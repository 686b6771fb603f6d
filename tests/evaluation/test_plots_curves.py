"""Learning curves of a leaderboard folder: rows over seeds from files, and ``fewshot-nsl plot LEADERBOARD_DIR``."""

import argparse
import json
import sys

import numpy as np
import pytest

from fewshot_nsl.cli import plot as plot_cli
from fewshot_nsl.core.errors import DataError, FewShotError
from fewshot_nsl.evaluation.curves import is_leaderboard_dir, leaderboard_curves

#: (row, seed) -> validation accuracies at episodes 500, 1000, 1500 (fractions)
CURVES = {("protonet", 0): [0.40, 0.45, 0.47], ("protonet", 1): [0.42, 0.44, 0.49],
          ("dynamic-cnn4", 0): [0.38, 0.46, 0.50], ("dynamic-cnn4", 1): [0.36, 0.48, 0.52]}


def write_study(lb, table=True, recorded_root=None):
    for (key, seed), accs in CURVES.items():
        run = lb / key / f"seed-{seed}"
        run.mkdir(parents=True)
        lines = [{"step": 1, "episode": 25, "loss": 1.0, "accuracy": 0.3}]
        lines += [{"step": e, "episode": e, "val_accuracy": a, "val_ci95": 0.02, "best": True, "wall_s": e * (1 + seed)}
                  for e, a in zip((500, 1000, 1500), accs)]
        (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    if table:
        root = recorded_root or lb
        items = [{"key": k, "label": k.upper(), "backbone": "cnn4",
                  "run_dirs": [str(root / k / f"seed-{s}") for s in (0, 1)]} for k in ("dynamic-cnn4", "protonet")]
        (lb / "leaderboard.json").write_text(json.dumps(items))


def test_curves_over_seeds_from_a_moved_leaderboard_folder(tmp_path):
    lb = tmp_path / "lb"
    write_study(lb, recorded_root=tmp_path / "elsewhere")  # run_dirs as recorded before the folder moved
    assert is_leaderboard_dir(lb) and not is_leaderboard_dir(lb / "protonet" / "seed-0")
    curves = leaderboard_curves(lb)
    assert [c.key for c in curves] == ["dynamic-cnn4", "protonet"] and curves[0].label == "DYNAMIC-CNN4 (cnn4)"
    dyn = curves[0]
    assert dyn.seeds == 2 and list(dyn.episodes) == [500, 1000, 1500]
    assert dyn.mean == pytest.approx([0.37, 0.47, 0.51])
    assert list(dyn.low) == [0.36, 0.46, 0.50] and list(dyn.high) == [0.38, 0.48, 0.52]
    assert dyn.wall_s == pytest.approx([750, 1500, 2250])  # mean of the two seeds' clocks


def test_curves_without_a_table_yet(tmp_path):
    write_study(tmp_path / "lb", table=False)  # shards still running: rows found by their folders
    curves = leaderboard_curves(tmp_path / "lb")
    assert [c.key for c in curves] == ["dynamic-cnn4", "protonet"]
    assert curves[1].mean == pytest.approx(np.mean([CURVES["protonet", 0], CURVES["protonet", 1]], axis=0))


def test_missing_runs_and_curves_fail_in_one_line(tmp_path):
    lb = tmp_path / "lb"
    lb.mkdir()
    (lb / "leaderboard.json").write_text(json.dumps([{"key": "x", "run_dir": str(tmp_path / "gone")}]))
    with pytest.raises(DataError, match="names run .*gone, which holds no metrics.jsonl"):
        leaderboard_curves(lb)
    run = lb / "x"
    run.mkdir()
    (run / "metrics.jsonl").write_text(json.dumps({"episode": 2, "loss": 1.0}) + "\n")
    (lb / "leaderboard.json").unlink()
    with pytest.raises(DataError, match="no row run recorded validation"):
        leaderboard_curves(lb)


def cli(argv):
    parser = argparse.ArgumentParser()
    plot_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_plot_of_a_leaderboard_folder_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
    write_study(tmp_path / "lb")
    assert cli(["plot", str(tmp_path / "lb")]) == 0
    assert (tmp_path / "lb" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_so(tmp_path, monkeypatch):
    write_study(tmp_path / "lb")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    with pytest.raises(FewShotError, match=r"pip install 'fewshot-nsl\[plot\]'"):
        cli(["plot", str(tmp_path / "lb"), "--out", str(tmp_path / "c.png")])
