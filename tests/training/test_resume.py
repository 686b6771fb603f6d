"""Exact resume: a real training process killed mid-run and resumed ends with the same weights and numbers."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from fewshot_nsl.runtime.checkpoint import load_checkpoint
from fewshot_nsl.runtime.config import resolve_config
from fewshot_nsl.runtime.precision import cpu_has_native_bf16
from fewshot_nsl.experiments.train_run import train
from fewshot_nsl.training.errors import TrainingDiverged, TrainingInterrupted

ARGS = ["--method", "protonet", "--dataset", "synthetic", "--episodes", "60", "--way", "5", "--shot", "5",
        "--query", "5", "--val-every", "8", "--val-episodes", "6", "--seed", "3", "--no-progress",
        "--set", "train.log_every=2", "--set", "eval.query=5", "--set", "train.threads=1"]
OVERRIDES = ["train.episodes=60", "task.way=5", "task.shot=5", "task.query=5", "train.val_every=8",
             "train.val_episodes=6", "train.seed=3", "train.progress=false", "train.log_every=2", "eval.query=5",
             "data.dataset=synthetic", "train.threads=1"]  # same thread count: oneDNN sums in a thread-dependent order


#: the fewest and smallest images that still train CNN-4 (four 2x2 poolings need 16 px), with a validation (and
#: checkpoint) every 2 episodes. fp16's killed-process run uses them because fp16 on a CPU has no fast convolution
#: backward (oneDNN's is 205-440x its fp32 one on an Intel Xeon with AVX512-FP16, RESULTS.md "fp16 on a CPU"), so
#: the GradScaler's resume is tested in seconds; the kill-between-writes test, for its many short runs. bf16 uses
#: them too on a CPU without native bf16 (an AVX2-only AMD EPYC: the reference im2col conv, 6-30x fp32, RESULTS.md
#: "bf16 on a CPU without native bf16"), where the full-size bf16 case took 259 s of a loaded core.
SMALL = ["train.episodes=8", "train.val_every=2", "train.val_episodes=2", "task.way=2", "task.shot=1", "task.query=1",
         "eval.query=1", "data.image_size=16"]
SHRUNK = {"fp16": SMALL, **({} if cpu_has_native_bf16() else {"bf16": SMALL})}


def _config(*extra):
    return resolve_config("protonet", overrides=OVERRIDES + list(extra))


def _launch(out, *extra, args=ARGS):
    cmd = [sys.executable, "-m", "fewshot_nsl", "train", *args, *extra, "--out", str(out), "--no-eval"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def _wait_for_checkpoint(proc, path, timeout=120):
    deadline = time.time() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"training exited early ({proc.returncode}): {proc.stderr.read()[-2000:]}")
        if time.time() > deadline:
            proc.kill()
            raise AssertionError("no checkpoint appeared")
        time.sleep(0.005)


def _computed(records):
    """``metrics`` records (dicts or JSON lines) without their wall-clock fields, in order."""
    records = [json.loads(r) if isinstance(r, str) else r for r in records]
    return [{k: v for k, v in r.items() if not k.startswith("wall")} for r in records]


def _assert_same_state(a, b):
    sa, sb = a["model"], b["model"]
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("whole")
    train(_config(), out)
    return out


@pytest.fixture(scope="module")
def uninterrupted_in(uninterrupted, tmp_path_factory):
    """The uninterrupted run of the killed-process test in a given precision (the default one is reused)."""
    runs = {}

    def run(precision):
        if precision is None:
            return uninterrupted
        if precision not in runs:
            torch.set_num_threads(1)
            runs[precision] = tmp_path_factory.mktemp(f"whole-{precision}")
            train(_config(f"train.precision={precision}", *SHRUNK.get(precision, [])), runs[precision])
        return runs[precision]
    return run


# None: the default (auto); fp16 on CPU runs with its GradScaler, whose state is in the checkpoint
@pytest.mark.parametrize("precision", [None, "fp32", "bf16", "fp16"])
def test_killed_process_resumes_to_identical_weights(uninterrupted_in, tmp_path, precision):
    uninterrupted = uninterrupted_in(precision)
    shrunk = SHRUNK.get(precision, [])
    flags = [*(("--precision", precision) if precision else ()), *(a for item in shrunk for a in ("--set", item))]
    episodes = _config(*shrunk).train.episodes
    out = tmp_path / "killed"
    proc = _launch(out, *flags)
    _wait_for_checkpoint(proc, out / "checkpoints" / "last.pt")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = load_checkpoint(out / "checkpoints" / "last.pt")
    assert partial["step"] < episodes, "the process finished before it could be killed"
    assert not (out / "DONE").exists()
    torch.set_num_threads(1)
    train(_config(*[f"train.precision={precision}"] * bool(precision), *shrunk), out)  # re-running into it resumes it
    whole = load_checkpoint(uninterrupted / "checkpoints" / "last.pt")
    resumed = load_checkpoint(out / "checkpoints" / "last.pt")
    _assert_same_state(whole, resumed)
    # every number but the wall clock (validation records carry the run's wall time, which no two runs share;
    # benchmarks/weights_fingerprint.py drops it alike)
    assert _computed(resumed["metrics"]) == _computed(whole["metrics"])
    _assert_same_state(load_checkpoint(uninterrupted / "checkpoints" / "best.pt"),
                       load_checkpoint(out / "checkpoints" / "best.pt"))
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert _computed(lines) == _computed((uninterrupted / "metrics.jsonl").read_text().splitlines())
    walls = [m["wall_s"] for m in resumed["metrics"] if "val_accuracy" in m]
    assert walls and walls == sorted(walls)  # the resumed run's clock continues the killed one's


#: the same run without validation until its end (val_every beyond the run, as in the cpu budget) and a metrics
#: line every 3 steps, so that periodic checkpoints fall between two metrics lines
NO_VAL = ["train.val_every=1000", "train.log_every=3"]


def _no_val_args(*checkpoint):
    args = [a for a in ARGS]
    args[args.index("--val-every") + 1] = "1000"
    args[args.index("train.log_every=2")] = "train.log_every=3"
    for item in checkpoint:
        args += ["--set", item]
    return args


@pytest.fixture(scope="module")
def uninterrupted_no_val(tmp_path_factory):
    """Checkpoint settings left at their defaults: no periodic checkpoint in so short a run."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("whole-noval")
    train(_config(*NO_VAL), out)
    return out


@pytest.mark.parametrize("checkpoint", [
    ("train.checkpoint_every_episodes=4", "train.checkpoint_every_minutes=null"),
    ("train.checkpoint_every_minutes=0.0005",),  # every 30 ms: WHEN it happens depends on the machine
], ids=["every-4-episodes", "every-30-ms"])
def test_sigkill_without_validation_resumes_from_a_periodic_checkpoint(uninterrupted_no_val, tmp_path, checkpoint):
    out = tmp_path / "killed"
    proc = _launch(out, args=_no_val_args(*checkpoint))
    _wait_for_checkpoint(proc, out / "checkpoints" / "last.pt")
    time.sleep(0.05 + 0.3 * (os.getpid() % 7) / 7)  # "at any point": not just right after a checkpoint
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = load_checkpoint(out / "checkpoints" / "last.pt")
    assert 0 < partial["step"] < 60, "the process finished before it could be killed"
    assert not (out / "DONE").exists()
    resume = subprocess.run([sys.executable, "-m", "fewshot_nsl", "train", *_no_val_args(*checkpoint),
                             "--out", str(out), "--no-eval"], capture_output=True, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=300)
    assert resume.returncode == 0, resume.stderr[-2000:]
    assert f"resuming {out} at step {partial['step']} of 60" in resume.stderr
    whole = load_checkpoint(uninterrupted_no_val / "checkpoints" / "last.pt")
    resumed = load_checkpoint(out / "checkpoints" / "last.pt")
    _assert_same_state(whole, resumed)
    # every number but the wall clock, which the final validation record carries and no two runs share
    assert _computed(resumed["metrics"]) == _computed(whole["metrics"])
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert _computed(lines) == _computed((uninterrupted_no_val / "metrics.jsonl").read_text().splitlines())


def test_sigterm_finishes_the_step_and_writes_a_checkpoint(uninterrupted, tmp_path):
    out = tmp_path / "term"
    proc = _launch(out)
    _wait_for_checkpoint(proc, out / "checkpoints" / "last.pt")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.fail("the run finished before SIGTERM arrived")
    assert proc.returncode == 128 + signal.SIGTERM
    assert "interrupted at training episode" in err and "Traceback" not in err
    torch.set_num_threads(1)
    train(_config(), out)
    _assert_same_state(load_checkpoint(uninterrupted / "checkpoints" / "last.pt"),
                       load_checkpoint(out / "checkpoints" / "last.pt"))


def test_extending_a_finished_run_continues_it(uninterrupted, tmp_path):
    out = tmp_path / "short"
    torch.set_num_threads(1)
    train(_config("train.episodes=32"), out)
    assert (out / "DONE").exists()
    train(_config(), out)  # train.episodes may grow on resume
    _assert_same_state(load_checkpoint(uninterrupted / "checkpoints" / "last.pt"),
                       load_checkpoint(out / "checkpoints" / "last.pt"))


def test_nan_loss_stops_with_the_episode_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    (tmp_path / "nan_backbone.py").write_text(textwrap.dedent("""
        import torch
        from torch import nn

        class GoesNaN(nn.Module):
            calls = 0

            def __init__(self, in_channels=3):
                super().__init__()
                self.conv = nn.Conv2d(in_channels, 4, 3, padding=1)

            def forward(self, x):
                out = self.conv(x).mean(dim=(2, 3))
                if self.training:
                    type(self).calls += 1
                    if type(self).calls > 12:
                        out = out * float("nan")
                return out
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "run"
    config = _config("model.backbone=nan_backbone:GoesNaN")
    with pytest.raises(TrainingDiverged, match="at training episode 12 "):
        train(config, out)
    state = load_checkpoint(out / "checkpoints" / "last.pt")
    assert state["step"] == 8  # the checkpoint of the last validation before the NaN


def test_changed_config_is_refused_on_resume(uninterrupted):
    before = (uninterrupted / "checkpoints" / "last.pt").read_bytes()
    with pytest.raises(Exception, match="was made with task.shot=5, not 1"):
        train(_config("task.shot=1"), uninterrupted)
    assert (uninterrupted / "checkpoints" / "last.pt").read_bytes() == before


def test_interrupted_is_a_fewshot_error():
    err = TrainingInterrupted("x", signal.SIGINT)
    assert err.exit_code == 130


class _Killed(BaseException):
    """A process death at a chosen point: nothing in the trainer catches it, as nothing survives a SIGKILL."""


def test_a_kill_between_the_checkpoint_writes_of_a_validation_loses_no_best_checkpoint(tmp_path, monkeypatch):
    """Killed after any one checkpoint file of the run is written (an improving validation writes two), the
    resumed run ends with the uninterrupted run's last.pt *and* best.pt: best.pt never lags what last.pt says."""
    import fewshot_nsl.training.trainer as trainer_module

    torch.set_num_threads(1)
    small = [*SMALL, "train.checkpoint_every_episodes=null", "train.checkpoint_every_minutes=null"]
    whole = tmp_path / "whole"
    writes = []
    real_save = trainer_module.save_checkpoint

    def counting(state, path):
        writes.append(path.name)
        real_save(state, path)
    monkeypatch.setattr(trainer_module, "save_checkpoint", counting)
    train(_config(*small), whole)
    assert "best.pt" in writes and writes.count("last.pt") > 1
    expected = {name: load_checkpoint(whole / "checkpoints" / name) for name in ("last.pt", "best.pt")}

    for kill_after in range(1, len(writes)):
        calls = []

        def dying(state, path):
            real_save(state, path)
            calls.append(path.name)
            if len(calls) == kill_after:
                raise _Killed(path.name)
        out = tmp_path / f"killed-after-{kill_after}"
        monkeypatch.setattr(trainer_module, "save_checkpoint", dying)
        with pytest.raises(_Killed):
            train(_config(*small), out)
        monkeypatch.setattr(trainer_module, "save_checkpoint", real_save)
        train(_config(*small), out)  # the same command again: resumes (or, with no last.pt yet, starts over)
        for name, state in expected.items():
            resumed = load_checkpoint(out / "checkpoints" / name)
            assert (resumed["step"], name, kill_after) == (state["step"], name, kill_after)
            _assert_same_state(state, resumed)
