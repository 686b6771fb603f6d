"""evaluation/curve_stats.py and ``fewshot-nsl plot DIR --summary``: end slopes and gaps across seeds, by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fewshot_nsl.cli.main import main
from fewshot_nsl.core.errors import DataError
from fewshot_nsl.core.stats import seed_ci95
from fewshot_nsl.evaluation.curve_stats import curve_summary, end_slope, gap_curve, seed_curves

EPISODES = [500, 1000, 1500, 2000, 2500]


def _run(path: Path, seed: int, accuracies: list[float], episodes: list[int] = EPISODES) -> Path:
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(f"train:\n  seed: {seed}\n")
    lines = [json.dumps({"step": e, "episode": e, "loss": 1.0}) for e in episodes]  # training lines are ignored
    lines += [json.dumps({"step": e, "episode": e, "val_accuracy": a, "val_ci95": 0.02})
              for e, a in zip(episodes, accuracies)]
    (path / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return path


def test_end_slope_is_the_least_squares_slope_per_1000_episodes_with_a_t_interval(tmp_path: Path) -> None:
    # seed 0 rises 2 points per 1,000 episodes exactly, seed 1 is flat, seed 2 falls 1 point per 1,000
    runs = [_run(tmp_path / f"seed-{s}", s, [0.5 + k * (e / 1000) for e in EPISODES]) for s, k in
            enumerate((0.02, 0.0, -0.01))]
    curves = seed_curves("row", "Row", runs)
    assert curves is not None and curves.seeds == (0, 1, 2)
    slope, ci, points = end_slope(curves, window=1000)  # the last 1,000 episodes: 1,500 .. 2,500
    assert points == 3
    mean, half = seed_ci95([0.02, 0.0, -0.01])
    assert slope == pytest.approx(mean) and ci == pytest.approx(half)
    with pytest.raises(DataError, match="fewer than two"):
        end_slope(curves, window=100)


def test_gaps_pair_seeds_by_their_training_seed_not_their_position(tmp_path: Path) -> None:
    ref = [_run(tmp_path / "ref" / f"seed-{s}", s, [0.4 + 0.1 * s] * 5) for s in (0, 1)]
    # the row's runs listed in the other order: seed 1 first
    row = [_run(tmp_path / "row" / f"r{i}", s, [0.4 + 0.1 * s + d] * 5) for i, (s, d) in
           enumerate(((1, 0.03), (0, 0.01)))]
    episodes, gap, ci, shared = gap_curve(seed_curves("row", "Row", row), seed_curves("ref", "Ref", ref))
    assert shared == 2 and list(episodes) == EPISODES
    np.testing.assert_allclose(gap, 0.02)
    np.testing.assert_allclose(ci, seed_ci95([0.03, 0.01])[1])
    # a single shared seed: the gap, no interval
    _, gap1, ci1, n1 = gap_curve(seed_curves("row", "Row", row[:1]), seed_curves("ref", "Ref", ref))
    assert n1 == 1 and ci1 is None
    np.testing.assert_allclose(gap1, 0.03)
    alone = seed_curves("x", "X", [_run(tmp_path / "x", 7, [0.5] * 5)])
    with pytest.raises(DataError, match="share no training seed"):
        gap_curve(alone, seed_curves("ref", "Ref", ref))


def _leaderboard(tmp_path: Path) -> Path:
    lb = tmp_path / "lb"
    for s in (0, 1):
        _run(lb / "protonet" / f"seed-{s}", s, [0.50, 0.52, 0.54, 0.55, 0.55])
        _run(lb / "dynamic" / f"seed-{s}", s, [0.49, 0.53, 0.56, 0.58, 0.59 + 0.01 * s])
    return lb


def test_summary_puts_the_reference_first_and_gives_every_other_row_its_gap(tmp_path: Path) -> None:
    items = curve_summary(_leaderboard(tmp_path), "protonet", window=1000)
    assert [it["key"] for it in items] == ["protonet", "dynamic"]
    assert "gap" not in items[0]
    dyn = items[1]
    assert dyn["gap_episodes"] == EPISODES and dyn["gap_seeds"] == 2
    np.testing.assert_allclose(dyn["gap"], [-0.01, 0.01, 0.02, 0.03, 0.045])
    assert dyn["final"] == pytest.approx(0.595)


def test_plot_summary_cli_prints_both_tables_and_json(tmp_path: Path, capsys) -> None:
    assert main(["plot", str(_leaderboard(tmp_path)), "--summary", "--window", "1000", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| row | seeds |") and any(line.startswith("Gap to protonet") for line in out)
    assert json.loads(out[-1])[1]["key"] == "dynamic"


def test_plot_summary_of_a_run_directory_is_one_clear_error(tmp_path: Path, capsys) -> None:
    run = _run(tmp_path / "run", 0, [0.5] * 5)
    assert main(["plot", str(run), "--summary"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--summary takes one leaderboard --out folder" in err[0]


def test_a_study_in_progress_summarises_its_finished_seeds_and_a_short_curve_has_no_slope(tmp_path: Path) -> None:
    lb = _leaderboard(tmp_path)  # protonet and dynamic, seeds 0 and 1, none marked finished
    for s in (0, 1):
        (lb / "protonet" / f"seed-{s}" / "DONE").write_text("{}")
    (lb / "dynamic" / "seed-0" / "DONE").write_text("{}")
    _run(lb / "protonet" / "seed-2", 2, [0.9], episodes=[500])  # still training: one point so far
    _run(lb / "static" / "seed-0", 0, [0.5, 0.6], episodes=[500, 1000])  # nothing of the row finished yet
    items = {it["key"]: it for it in curve_summary(lb, "protonet", window=1000)}
    assert items["protonet"]["seeds"] == [0, 1] and items["protonet"]["last_episode"] == 2500  # seed 2 left out
    assert items["dynamic"]["seeds"] == [0]  # its unfinished seed 1 too
    np.testing.assert_allclose(items["dynamic"]["gap"], [-0.01, 0.01, 0.02, 0.03, 0.04])
    static = items["static"]  # drawn from its running seed: two points, shorter than the window's fit needs
    assert static["seeds"] == [0] and static["last_episode"] == 1000 and static["slope"] is not None
    short = curve_summary(lb, "protonet", window=100)
    assert all(it["slope"] is None and it["slope_points"] == 1 for it in short)
    assert main(["plot", str(lb), "--summary", "--window", "100"]) == 0
