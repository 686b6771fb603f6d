"""benchmarks/study_runner.py: its jobs are the leaderboard's shard jobs, and a kept job comes back reusable."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

from fewshot_nsl.experiments.jobs import in_shard, make_jobs

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "study_runner.py"
_spec = importlib.util.spec_from_file_location("study_runner", _PATH)
study_runner = importlib.util.module_from_spec(_spec)
sys.modules["study_runner"] = study_runner  # dataclasses look their module up there
_spec.loader.exec_module(study_runner)


@pytest.mark.parametrize("name", sorted(study_runner.STUDIES))
def test_every_job_is_exactly_its_own_leaderboard_shard(name: str) -> None:
    study = study_runner.STUDIES[name]
    jobs = study_runner.jobs_of(study)
    assert len(jobs) == len(study.datasets) * len(study.rows) * len(study.seeds)
    assert len({j.name for j in jobs}) == len(jobs)
    for job in jobs:  # the leaderboard call of a job: --methods ROW --seeds <all> --shard I/N
        board = make_jobs([job.row], list(study.seeds))
        selected = [b for b in board if in_shard(b, (job.index, job.count))]
        assert [(b.key, b.seed) for b in selected] == [(job.row, job.seed)]


@pytest.mark.parametrize("name", sorted(study_runner.STUDIES))
def test_every_row_of_a_study_is_a_row_of_its_budget(name: str) -> None:
    from fewshot_nsl.experiments.tables import TABLES

    study = study_runner.STUDIES[name]
    spec = TABLES[study.table]
    budget = spec.budgets[study.budget]
    known = {r.key for r in (budget.rows or spec.rows)}
    assert set(study.rows) <= known


def test_first_rows_run_all_their_seeds_before_the_others() -> None:
    study = study_runner.Study("equal-5k", ("d",), ("a", "b", "c"), seeds=(0, 1), first=("c",))
    assert [(j.row, j.seed) for j in study_runner.jobs_of(study)] == [
        ("c", 0), ("c", 1), ("a", 0), ("b", 0), ("a", 1), ("b", 1)]


def _fake_finished_run(run_dir: Path) -> None:
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "last.pt").write_bytes(b"weights")
    (run_dir / "config.yaml").write_text("train:\n  seed: 1\n")
    (run_dir / "metrics.jsonl").write_text('{"episode": 500, "val_accuracy": 0.5}\n')
    (run_dir / "DONE").write_text("{}")
    (run_dir / "eval").mkdir()
    (run_dir / "eval" / "val_5way5shot.json").write_text(json.dumps({"mean": 0.5, "ci95": 0.01}))


def test_keep_then_restore_gives_a_finished_run_without_checkpoints(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    study = study_runner.Study("equal-5k", ("d",), ("a",), seeds=(1,))
    job = study_runner.jobs_of(study)[0]
    first = tmp_path / "machine-1"
    _fake_finished_run(job.run_dir(first))
    assert study_runner.finished(job.run_dir(first))
    kept = study_runner.keep("s", job, job.run_dir(first), {"code_commit": "abc"})
    assert not (kept / "checkpoints").exists()
    provenance = json.loads((kept / "PROVENANCE.json").read_text())
    assert provenance["code_commit"] == "abc" and set(provenance["checkpoint_sha256"]) == {"last.pt"}
    # a clone does not keep mtimes: make the kept evaluation older than its DONE, as a checkout may
    old = time.time() - 100
    os.utime(kept / "eval" / "val_5way5shot.json", (old, old))
    second = tmp_path / "machine-2"
    assert study_runner.restore("s", study, second) == 1
    assert study_runner.finished(job.run_dir(second))
    assert not (job.run_dir(second) / "PROVENANCE.json").exists()
    assert study_runner.restore("s", study, second) == 0  # already there: untouched


def test_a_claim_is_exclusive_until_its_process_is_gone(tmp_path: Path) -> None:
    job = study_runner.Job("d", "a", 0, 0, 1)
    assert study_runner.claim(tmp_path, job)
    assert not study_runner.claim(tmp_path, job)  # this process is alive
    (tmp_path / "claims" / job.name / "pid").write_text("999999999")  # no such process
    assert study_runner.claim(tmp_path, job)
    study_runner.release(tmp_path, job)
    assert not (tmp_path / "claims" / job.name).exists()


def test_a_job_whose_training_outlived_its_worker_is_not_claimed(tmp_path: Path) -> None:
    from fewshot_nsl.runtime.run_lock import RunLock

    job = study_runner.Job("d", "a", 0, 0, 1)
    with RunLock(job.run_dir(tmp_path)):
        assert study_runner.training_now(job.run_dir(tmp_path))
        assert not study_runner.claim(tmp_path, job)
    assert not study_runner.training_now(job.run_dir(tmp_path))
    assert study_runner.claim(tmp_path, job)


def test_deadline_uses_the_longest_kept_wall_time_of_the_row(tmp_path: Path, monkeypatch) -> None:
    import datetime as dt

    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    study = study_runner.Study("equal-5k", ("d", "e"), ("a", "b"), seeds=(0, 1))
    jobs = {(j.dataset, j.row, j.seed): j for j in study_runner.jobs_of(study)}
    kept = jobs[("d", "a", 0)].kept_dir("s")
    kept.mkdir(parents=True)
    (kept / "PROVENANCE.json").write_text(json.dumps({"session_wall_s": 3600.0}))
    soon = dt.datetime.now() + dt.timedelta(minutes=30)
    assert not study_runner.fits("s", study, jobs[("d", "a", 1)], soon)   # 60 min expected
    assert not study_runner.fits("s", study, jobs[("e", "a", 0)], soon)   # the same row on another dataset
    assert not study_runner.fits("s", study, jobs[("d", "b", 0)], soon)   # nothing kept of row b: 60 min assumed
    assert study_runner.fits("s", study, jobs[("d", "b", 0)], soon, unknown_minutes=20)
    assert study_runner.fits("s", study, jobs[("d", "a", 1)], None)


@pytest.mark.parametrize("now, text, expected", [
    ("2026-12-02 21:42", "00:25", "2026-12-03 00:25"),   # a session that ends after midnight
    ("2026-12-02 14:00", "17:20", "2026-12-02 17:20"),
    ("2026-12-02 17:20", "17:20", "2026-12-03 17:20"),   # the time of day has come: the next one
])
def test_a_deadline_is_the_next_time_of_day_on_the_clock(now: str, text: str, expected: str) -> None:
    import datetime as dt

    parsed = study_runner.parse_deadline(text, dt.datetime.fromisoformat(now))
    assert parsed == dt.datetime.fromisoformat(expected)


@pytest.mark.parametrize("text", ["25", "ab:cd", "1:2:3"])
def test_a_bad_deadline_is_one_line_and_exit_2(text: str, capsys) -> None:
    import datetime as dt

    with pytest.raises(SystemExit) as stop:
        study_runner.parse_deadline(text, dt.datetime(2026, 12, 2, 12, 0))
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--deadline" in err and repr(text) in err


def test_a_finished_job_without_its_worker_is_kept(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    study = study_runner.Study("equal-5k", ("d",), ("a",), seeds=(1,))
    job = study_runner.jobs_of(study)[0]
    _fake_finished_run(job.run_dir(tmp_path / "runs"))
    study_runner.keep_orphans("s", study, tmp_path / "runs", "abc")
    assert (job.kept_dir("s") / "DONE").exists()


@pytest.mark.slow
def test_a_real_job_is_kept_restored_elsewhere_and_reused_by_the_leaderboard(tmp_path: Path, monkeypatch) -> None:
    """The smoke study on the packaged Omniglot: one real job trained by a frozen copy of HEAD, kept, restored on
    'another machine' (a fresh folder) and assembled into a table there without training or evaluating again."""
    import subprocess

    if subprocess.run(["git", "-C", str(study_runner.REPO), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout: the runner freezes a commit with git archive")
    from fewshot_nsl.experiments.leaderboard import run_leaderboard

    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    monkeypatch.delenv("FEWSHOT_NSL_DATA", raising=False)  # the packaged Omniglot, whatever the machine holds
    first, second = tmp_path / "machine-1", tmp_path / "machine-2"
    assert study_runner.main(["smoke", "--runs", str(first), "--code", "HEAD"]) == 0
    job = study_runner.jobs_of(study_runner.STUDIES["smoke"])[0]
    kept = job.kept_dir("smoke")
    assert (kept / "DONE").exists() and not (kept / "checkpoints").exists()
    assert json.loads((kept / "PROVENANCE.json").read_text())["code_commit"]
    assert study_runner.main(["smoke", "--runs", str(second), "--code", "HEAD", "--restore"]) == 0

    def refuse(*args, **kwargs):
        raise AssertionError("a kept job was trained or evaluated again")

    (row,) = run_leaderboard("omniglot", "smoke", second / "omniglot", methods=["protonet"], device="cpu",
                             progress=False, seeds=[0], train_fn=refuse, eval_fn=refuse)
    saved = json.loads(next((kept / "eval").glob("*.json")).read_text())
    assert row["accuracy"] == pytest.approx(saved["mean"]) and row["seeds"] == [0]


def test_cpu_numerics_names_the_vendor_and_the_kernel_deciding_flags():
    cpuinfo = ("processor\t: 0\nvendor_id\t: GenuineIntel\n"
               "flags\t\t: fpu avx2 fma avx512f avx512_bf16 amx_tile amx_bf16\n"
               "processor\t: 1\nvendor_id\t: GenuineIntel\nflags\t\t: fpu avx2\n")
    numerics = study_runner.cpu_numerics(cpuinfo)
    assert numerics == {"vendor": "GenuineIntel",
                        "flags": ["avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"]}
    assert study_runner.cpu_numerics("vendor_id : AuthenticAMD\nflags : avx2 fma\n") == {
        "vendor": "AuthenticAMD", "flags": ["avx2", "fma"]}
    assert set(study_runner.cpu_numerics()) == {"vendor", "flags"}  # this machine's, whatever it is


def _kept_job(tmp_path: Path, study_name: str, job, precision: str) -> None:
    kept = job.kept_dir(study_name)
    kept.mkdir(parents=True)
    (kept / "DONE").write_text("{}")
    (kept / "config.yaml").write_text(f"train:\n  precision: {precision}\n  seed: {job.seed}\n")


def test_a_study_refuses_a_job_in_another_precision_than_its_kept_jobs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    study = study_runner.Study("equal-5k", ("d",), ("protonet", "dynamic"), seeds=(0, 1))
    jobs = {(j.row, j.seed): j for j in study_runner.jobs_of(study)}
    _kept_job(tmp_path, "s", jobs[("protonet", 0)], "bf16")
    assert study_runner.precision_conflict("s", study, "bf16") is None
    line = study_runner.precision_conflict("s", study, "fp32")
    assert line is not None and "protonet--seed-0 trained in bf16" in line and "in fp32" in line
    assert "\n" not in line
    for job in jobs.values():  # nothing left to train: nothing to refuse
        if job.seed != 0 or job.row != "protonet":
            _kept_job(tmp_path, "s", job, "bf16")
    assert study_runner.precision_conflict("s", study, "fp32") is None


def test_row_scoped_precision_only_binds_the_seeds_of_one_row(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    study = study_runner.Study("equal-5k", ("d",), ("nn", "maml"), seeds=(0, 1), same_precision="row")
    jobs = {(j.row, j.seed): j for j in study_runner.jobs_of(study)}
    _kept_job(tmp_path, "s", jobs[("nn", 0)], "bf16")
    _kept_job(tmp_path, "s", jobs[("nn", 1)], "bf16")
    assert study_runner.precision_conflict("s", study, "fp32") is None  # maml has no kept seed yet
    _kept_job(tmp_path, "s", jobs[("maml", 0)], "bf16")
    assert "maml--seed-0 trained in bf16" in study_runner.precision_conflict("s", study, "fp32")


def test_a_pinned_precision_is_passed_to_every_job_and_needs_no_probe(tmp_path: Path, monkeypatch) -> None:
    study = study_runner.STUDIES["equal-5k-f"]
    assert study.precision == "fp32"
    assert study_runner.machine_precision(study, tmp_path / "no-code", "no-python") == "fp32"
    calls = []
    monkeypatch.setattr(study_runner.subprocess, "run", lambda cmd, **kw: calls.append(cmd) or
                        type("R", (), {"returncode": 0})())
    study_runner.run_job(study, study_runner.jobs_of(study)[0], tmp_path, tmp_path, None, "python")
    assert calls and calls[0][-2:] == ["--precision", "fp32"]


def test_the_machine_precision_of_an_unpinned_study_is_what_auto_resolves_to_here() -> None:
    import torch

    from fewshot_nsl.runtime.precision import resolve_precision

    study = study_runner.STUDIES["equal-5k-a"]
    assert study.precision is None
    code = Path(__file__).resolve().parents[2]
    assert study_runner.machine_precision(study, code, sys.executable) == resolve_precision("auto", torch.device("cpu"))


def test_a_worker_on_a_fresh_folder_restores_its_kept_jobs_instead_of_training_them(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    # a worker started without --start/--restore once trained a kept job again and overwrote it in the checkout
    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    monkeypatch.setitem(study_runner.STUDIES, "one-kept", study_runner.Study("equal-5k", ("d",), ("a",), seeds=(1,)))
    job = study_runner.jobs_of(study_runner.STUDIES["one-kept"])[0]
    _fake_finished_run(job.run_dir(tmp_path / "elsewhere"))
    kept = study_runner.keep("one-kept", job, job.run_dir(tmp_path / "elsewhere"), {"code_commit": "abc"})
    before = {p.name: p.read_bytes() for p in kept.rglob("*") if p.is_file()}
    monkeypatch.setattr(study_runner, "run_job", lambda *a, **k: pytest.fail("a kept job was trained again"))
    monkeypatch.setattr(study_runner, "machine_precision", lambda *a: "fp32")
    monkeypatch.setattr(study_runner, "frozen_code", lambda runs, commit: runs / "code-abc1234")
    assert study_runner.main(["one-kept", "--runs", str(tmp_path / "fresh"), "--code", "HEAD"]) == 0
    assert study_runner.finished(job.run_dir(tmp_path / "fresh"))
    assert {p.name: p.read_bytes() for p in kept.rglob("*") if p.is_file()} == before


def _in_flight_run(run_dir: Path, episodes: int, precision: str = "fp32") -> None:
    import torch

    (run_dir / "checkpoints").mkdir(parents=True)
    from fewshot_nsl.runtime.checkpoint import save_checkpoint

    save_checkpoint({"model": {"w": torch.zeros(2)}, "step": episodes,
                     "metrics": [{"step": episodes, "episode": episodes, "loss": 1.0}]}, run_dir / "checkpoints" / "last.pt")
    save_checkpoint({"model": {"w": torch.ones(2)}, "step": episodes - 1}, run_dir / "checkpoints" / "best.pt")
    (run_dir / "config.yaml").write_text(f"train:\n  precision: {precision}\n")
    (run_dir / "metrics.jsonl").write_text('{"episode": 1}\n')


def test_a_parked_job_comes_back_on_a_fresh_machine_and_leaves_when_kept(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    study = study_runner.Study("equal-5k", ("d",), ("a", "b"), seeds=(0,))
    running, untouched = study_runner.jobs_of(study)
    first = tmp_path / "machine-1"
    _in_flight_run(running.run_dir(first), 1250)
    lines = study_runner.park("s", study, first, "abc1234")
    assert lines == [f"parked {running.name} at 1250 episodes in {running.parked_dir('s')}"]
    parked = running.parked_dir("s")
    assert sorted(p.name for p in (parked / "checkpoints").iterdir()) == ["best.pt", "last.pt"]
    history = json.loads((parked / "PARKED.json").read_text())
    assert history[0]["code_commit"] == "abc1234" and history[0]["episodes"] == 1250
    assert not untouched.parked_dir("s").exists()  # nothing to park: no checkpoint

    second = tmp_path / "machine-2"
    assert study_runner.restore_parked("s", study, second) == 1
    run_dir = running.run_dir(second)
    assert (run_dir / "checkpoints" / "last.pt").read_bytes() == (parked / "checkpoints" / "last.pt").read_bytes()
    assert study_runner.restore_parked("s", study, second) == 0  # its own checkpoint now wins
    # parked again by the second machine: the history grows
    assert len(study_runner.park("s", study, second, "abc1234")) == 1
    assert len(json.loads((parked / "PARKED.json").read_text())) == 2

    _fake_finished_run(tmp_path / "done")  # the job finishes on the second machine
    for name in ("DONE", "eval"):
        src = tmp_path / "done" / name
        (run_dir / name).mkdir(exist_ok=True) if src.is_dir() else (run_dir / name).write_text(src.read_text())
    (run_dir / "eval" / "val_5way5shot.json").write_text(json.dumps({"mean": 0.5, "ci95": 0.01}))
    kept = study_runner.keep("s", running, run_dir, {"code_commit": "abc1234"})
    assert len(json.loads((kept / "PROVENANCE.json").read_text())["parked"]) == 2
    assert not parked.exists()


def test_a_checkpoint_over_the_cap_is_not_parked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(study_runner, "PARK_MAX_BYTES", 10)
    study = study_runner.Study("equal-5k", ("d",), ("a",), seeds=(0,))
    job = study_runner.jobs_of(study)[0]
    _in_flight_run(job.run_dir(tmp_path / "m"), 10)
    assert study_runner.park("s", study, tmp_path / "m", "abc")[0].startswith(f"not parked {job.name}")
    assert not job.parked_dir("s").exists() and not job.parked_dir("s").with_name("seed-0.partial").exists()


def test_a_parked_job_binds_the_precision_like_a_kept_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(study_runner, "RESULTS", tmp_path / "results")
    study = study_runner.Study("equal-5k", ("d",), ("a",), seeds=(0,))
    job = study_runner.jobs_of(study)[0]
    _in_flight_run(job.run_dir(tmp_path / "m"), 10, precision="bf16")
    study_runner.park("s", study, tmp_path / "m", "abc")
    assert "parked job d--a--seed-0 trained in bf16" in study_runner.precision_conflict("s", study, "fp32")
    assert study_runner.precision_conflict("s", study, "bf16") is None
