"""Two gloo processes with one episode each reach the weights of one process with a meta-batch of two."""

import os
import pathlib
import subprocess
import sys
import tempfile

import pytest
import torch
import yaml

from fewshot_nsl.runtime.checkpoint import load_checkpoint

COMMON = ["train", "--method", "protonet", "--dataset", "synthetic", "--episodes", "8", "--way", "5",
          "--shot", "2", "--query", "3", "--val-every", "4", "--val-episodes", "4", "--seed", "5",
          "--no-progress", "--no-eval", "--set", "eval.query=3", "--set", "train.threads=1"]


def _run(cmd, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _single_process_val(state):  # in the run's (resolved) precision, as validation ran
    from fewshot_nsl.data import load_split
    from fewshot_nsl.episodes import EpisodeSampler
    from fewshot_nsl.evaluation.evaluator import evaluate
    from fewshot_nsl.runtime.build import build_method
    from fewshot_nsl.runtime.config import resolve_config
    from fewshot_nsl.training.stream import make_transform

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(state["config"]))
        config = resolve_config(None, str(path))
    method = build_method(config, tuple(state["image_shape"]), state["num_base_classes"])
    method.load_state_dict(state["model"])
    val = load_split("synthetic", "val")
    e = config.eval
    sampler = EpisodeSampler(val.labels, e.way, e.shot, e.query, seed=e.seed)
    episodes = [sampler.episode(i) for i in range(config.train.val_episodes)]
    result = evaluate(method, val, episodes, make_transform(val, False), "cpu", progress=False,
                      precision=config.train.precision)
    return float(result.accuracies.mean())  # fractions, as metrics.jsonl


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_two_ranks_equal_one_process_with_meta_batch_two(tmp_path, precision):
    single = tmp_path / "single"
    common = [*COMMON, "--precision", precision]
    _run([sys.executable, "-m", "fewshot_nsl", *common, "--meta-batch", "2", "--out", str(single)])
    ddp = tmp_path / "ddp"
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
          "-m", "fewshot_nsl", *common, "--meta-batch", "1", "--out", str(ddp)])
    a = load_checkpoint(single / "checkpoints" / "last.pt")
    b = load_checkpoint(ddp / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 4 and b["world_size"] == 2
    assert a["config"]["train"]["precision"] == b["config"]["train"]["precision"] == precision
    names = [n for n, v in a["model"].items() if v.is_floating_point() and "running" not in n]
    assert names
    for name in names:
        torch.testing.assert_close(a["model"][name], b["model"][name], rtol=1e-4, atol=1e-5, msg=name)
    # validation was sharded across the ranks and gathered: the same number as one process evaluating
    # the saved model on all the validation episodes
    vb = [m["val_accuracy"] for m in b["metrics"] if "val_accuracy" in m]
    assert len(vb) == 2
    assert vb[-1] == pytest.approx(_single_process_val(b), abs=1e-9)
    # only rank 0 wrote logs and checkpoints: one metrics file, one line per record
    assert len((ddp / "metrics.jsonl").read_text().splitlines()) == len(b["metrics"])


@pytest.mark.slow
def test_nproc_shortcut_launches_torchrun(tmp_path):
    out = tmp_path / "short"
    _run([sys.executable, "-m", "fewshot_nsl", *COMMON, "--nproc", "2", "--out", str(out)])
    assert load_checkpoint(out / "checkpoints" / "last.pt")["world_size"] == 2
