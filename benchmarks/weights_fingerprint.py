"""Fingerprint of fixed-seed training runs: the SHA-256 of every method's final weights and of its metrics.

A refactor that must not change a single number is checked by running this before and after it and comparing
the two outputs line by line (``diff``). Each run goes through the command line exactly as a user's would:

    python benchmarks/weights_fingerprint.py --out /tmp/fp > before.txt
    ... change the code ...
    python benchmarks/weights_fingerprint.py --out /tmp/fp2 > after.txt && diff before.txt after.txt

Runs are short (a few episodes, validation included) on the ``synthetic`` set, so the check needs no data; with
``--dataset omniglot`` (or any other) they read real data instead. One thread, so the summation order is fixed.
``--set train.precision=fp32`` pins the precision (the default ``auto`` is bf16 on a CPU with native bf16).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch

#: (row name, method, extra ``--set`` overrides); every built-in method, both dynamic parameterisations
RUNS = (
    ("protonet", "protonet", ()),
    ("relationnet", "relationnet", ()),
    ("maml", "maml", ("method.inner_steps=1", "method.test_inner_steps=1")),
    ("matchingnet", "matchingnet", ()),
    ("finetune", "finetune", ("method.epochs=1", "train.batch_size=16")),
    ("nn", "nn", ("train.batch_size=16",)),
    ("static-uns", "static", ("model.nsl=static-uns",)),
    ("metastatic", "metastatic", ("method.inner_steps=1", "method.test_inner_steps=1")),
    ("dynamic-dns", "dynamic", ()),
    ("dynamic-uns-shared", "dynamic", ("model.nsl=dynamic-uns", "model.param=shared")),
)

COMMON = ("train.val_every=4", "train.val_episodes=3", "train.log_every=2", "task.shot=2", "task.query=3",
          "eval.shot=2", "eval.query=3", "data.num_workers=0")


def state_digest(path: Path) -> str:
    """SHA-256 over the model tensors of checkpoint ``path`` (names, dtypes, shapes and bytes, sorted by name)."""
    state = torch.load(path, map_location="cpu", weights_only=False)  # our own file, written just now
    digest = hashlib.sha256()
    for name in sorted(state["model"]):
        tensor = state["model"][name].detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.numpy().tobytes() if tensor.dtype != torch.bfloat16 else tensor.view(torch.int16)
                      .numpy().tobytes())
    return digest.hexdigest()


def metrics_digest(path: Path) -> str:
    """SHA-256 of ``metrics.jsonl`` with wall-clock fields dropped; accuracies compared as fractions."""
    lines = []
    for line in path.read_text().splitlines():
        record = {k: v for k, v in json.loads(line).items() if not k.startswith("wall")}
        lines.append(json.dumps(record, sort_keys=True))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="scratch folder for the run directories (emptied first)")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--image-size", type=int, default=28)
    parser.add_argument("--only", nargs="*", default=None, help="row names to run (default: all)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override passed to every run, e.g. --set train.precision=fp32 (repeatable)")
    args = parser.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name, method, extra in RUNS:
        if args.only and name not in args.only:
            continue
        run = out / name
        cmd = [sys.executable, "-m", "fewshot_nsl", "train", "--method", method, "--dataset", args.dataset,
               "--episodes", str(args.episodes), "--image-size", str(args.image_size), "--seed", "0",
               "--out", str(run), "--no-eval", "--no-progress"]
        for item in (*COMMON, *extra, *args.overrides):
            cmd += ["--set", item]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{name}: FAILED rc={done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
            continue
        print(f"{name} weights {state_digest(run / 'checkpoints' / 'last.pt')} "
              f"metrics {metrics_digest(run / 'metrics.jsonl')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
