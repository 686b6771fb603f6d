"""``data check``: per-split counts, every problem listed per file, exit codes and the JSON line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from fewshot_nsl.cli.data_check import add_parser, format_report, run_data_check
from fewshot_nsl.core.errors import DataError


def run_cli(argv: list) -> int:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_clean_dataset(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path, {"train": (2, 3), "val": (2, 2)})
    report = run_data_check("mini-imagenet", str(root), None, 16)
    assert report["ok"] and report["problems"] == 0
    assert report["splits"]["train"]["classes"] == 2 and report["splits"]["train"]["images"] == 6
    assert report["splits"]["val"]["per_class_min"] == report["splits"]["val"]["per_class_max"] == 2


def test_every_bad_file_is_listed(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path, {"val": (2, 3)})
    images = sorted((root / "images").iterdir())
    images[0].write_bytes(b"garbage")
    images[4].unlink()
    report = run_data_check("mini-imagenet", str(root), ["val"], 16)
    val = report["splits"]["val"]
    assert not report["ok"] and val["problem_count"] == 2 and val["images"] == 6
    files = sorted(p["file"] for p in val["problems"])
    assert files == sorted([str(images[0]), str(images[4])])
    text = format_report(report)
    assert images[0].name in text and images[4].name in text and "problems: 2" in text


def test_split_level_problem(tmp_path: Path) -> None:
    (tmp_path / "mini-imagenet-cache-validation.pkl").write_text("<html>quota exceeded</html>")
    report = run_data_check("mini-imagenet", str(tmp_path), ["val"], None)
    assert report["splits"]["val"]["problem_count"] == 1
    assert "HTML page" in report["splits"]["val"]["problems"][0]["problem"]


def test_default_splits_are_the_ones_present(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path)
    report = run_data_check("omniglot", str(root), None, 10)
    assert list(report["splits"]) == ["train", "val", "background", "evaluation"] and report["ok"]
    assert report["splits"]["train"]["images"] == 15


def test_cli_exit_codes_and_json(build, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = build.ravi(tmp_path, {"val": (2, 2)})
    assert run_cli(["data", "check", "--dataset", "mini-imagenet", "--data-root", str(root), "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1])["ok"] is True and "clean" in out
    next((root / "images").iterdir()).write_bytes(b"x")
    assert run_cli(["data", "check", "--dataset", "mini-imagenet", "--data-root", str(root), "--split", "val",
                    "--image-size", "16", "--json"]) == 1
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["problems"] == 1


def test_missing_root_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        run_data_check("mini-imagenet", str(tmp_path / "nope"), None, None)


def test_synthetic_needs_no_root() -> None:
    report = run_data_check("synthetic", None, ["val"], None)
    assert report["ok"] and report["splits"]["val"]["images"] == 960
