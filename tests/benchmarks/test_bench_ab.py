"""benchmarks/bench_ab.py: each worker runs the package version it was given, and a bad commit is one line, exit 2."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ab.py"
_spec = importlib.util.spec_from_file_location("bench_ab", _PATH)
bench_ab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_ab)
_HAS_GIT = subprocess.run(["git", "-C", str(_PATH.parent), "rev-parse", "HEAD"], capture_output=True).returncode == 0


def test_a_bad_commit_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        bench_ab.package_dir("no-such-commit-xyz", tmp_path)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no-such-commit-xyz" in err


@pytest.mark.skipif(not _HAS_GIT, reason="needs the git checkout (git archive of a commit)")
def test_each_worker_imports_its_own_package_and_times_steps(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(_PATH), "--base", "HEAD", "--variant", "cnn4/plain", "--size", "16",
                          "--pairs", "2", "--json"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["pairs"] == 2 and result["median_base_s"] > 0 and result["median_new_s"] > 0
    ratio = result["ratio_new_over_base"]
    assert ratio["q1"] <= ratio["median"] <= ratio["q3"]
    # the base package really is the archived commit, not this checkout
    assert bench_ab.package_dir("HEAD", tmp_path) != bench_ab.REPO
    assert (bench_ab.package_dir("HEAD", tmp_path) / "fewshot_nsl" / "__init__.py").exists()
