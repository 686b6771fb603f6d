"""Run a multi-session study one job at a time, one worker per core, and keep every finished job in the checkout.

A study (issue 13's equal-budget comparisons, issue 16's CIFAR stand-in) is a list of (dataset, row, seed) jobs of
one leaderboard budget. Each job is one ``fewshot-nsl leaderboard ... --methods ROW --seeds S... --shard I/N``
call (I = the seed's position), so its run directory (``ROW/seed-N``) and evaluation are exactly the ones the unsharded
leaderboard of all the rows assembles its table from, whatever the table's row order.

Why this script and not two static ``--shard i/2`` commands: a session's machine does not outlive the session
(its home directory included), so a study that needs more core-hours than one session has is only as good as
what it kept. Here

* every job is trained by a frozen copy of the package at ``--code`` (``git archive``), so later commits cannot
  change a study's numerics; each finished job records that commit, the machine and its wall time;
* a finished job's run directory, minus its checkpoints, is copied into the checkout under
  ``benchmarks/results/<study>/runs/`` (config.yaml, DONE, metrics.jsonl with the learning curve, eval/*.json with
  the per-episode accuracies, the weights' SHA-256): commit it, and the next session's ``--restore`` puts it back
  so the leaderboard reuses it instead of training it again;
* a job still training when the session must end is *parked* (``--park``): its newest periodic checkpoint
  (``last.pt``, then ``best.pt``), config and curve are copied into the checkout under
  ``benchmarks/results/<study>/parked/``; commit them, and the next session's restore puts them back so that job
  resumes where it was instead of starting over (on another CPU kind it no longer reproduces bit for bit, which
  its PROVENANCE then records);
* workers take the next unclaimed job from one queue (an atomic ``mkdir`` claim), so two cores stay busy until
  the queue is empty however unequal the jobs are; a killed job resumes from its last periodic checkpoint when
  the same machine runs the worker again.

    # a new session: put the kept jobs back and start one detached worker per core (each job pinned, 1 thread)
    python benchmarks/study_runner.py equal-5k-a --runs ~/fewshot-runs/equal-5k --code 2b06744 --start 2 \\
        --deadline 17:20            # no job expected to end after 17:20 starts (the session's end, less a margin)
    python benchmarks/study_runner.py equal-5k-a --runs ~/fewshot-runs/equal-5k --code 2b06744 --status
    touch ~/fewshot-runs/equal-5k/STOP   # the workers stop after their current jobs
    python benchmarks/study_runner.py equal-5k-a --runs ~/fewshot-runs/equal-5k --code 2b06744 --park  # session end
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


@dataclass(frozen=True)
class Study:
    """Jobs of one leaderboard budget: every row of ``rows`` x ``seeds`` on each of ``datasets``.

    Jobs are *run* row group by row group (``first``: the rows whose comparison matters most, all their seeds,
    before the rest), so a study cut short still has its headline comparison complete."""

    budget: str
    datasets: Sequence[str]
    rows: Sequence[str]
    seeds: Sequence[int] = (0, 1, 2)
    table: str = "fewshot"
    first: Sequence[str] = ()
    #: ``--precision`` of every job on every machine (None: the budget's own, ``auto``, resolved per machine)
    precision: Optional[str] = None
    #: whose kept jobs a new job must match in precision: ``study`` (rows compared seed by seed: every job) or
    #: ``row`` (context rows of one seed each, compared only through their stated precision: the same row)
    same_precision: str = "study"


STUDIES: Dict[str, Study] = {
    # a minute on the packaged Omniglot: tries the runner (and its tests run it end to end)
    "smoke": Study("smoke", ("omniglot",), ("protonet",), seeds=(0,)),
    # issue 13, priority (a): the paper's CNN-4 few-shot rows at one equal budget, three seeds
    "equal-5k-a": Study("equal-5k", ("mini-imagenet", "omniglot"),
                        ("protonet", "static", "static-dns", "metastatic", "dynamic-cnn4"),
                        first=("protonet", "dynamic-cnn4")),
    # issue 13, priority (b): the dynamic NSN with the released code's gamma 1
    "equal-5k-b": Study("equal-5k", ("mini-imagenet",), ("dynamic-cnn4-g1",)),
    # issue 13, priority (c): the dynamic CNN-9 NSN and its plain CNN-9 ProtoNet control
    "equal-5k-c": Study("equal-5k", ("mini-imagenet",), ("protonet-cnn9", "dynamic-cnn9")),
    # issue 13, priority (d): the other rows at the same episode count, one seed; cheapest first (RESULTS.md,
    # "Learning-curve overhead": nn and finetune ~0.5x ProtoNet's episode time, matchingnet and maml ~1.8x,
    # relationnet ~3.7x), so a session's last half hour finishes jobs instead of starting long ones
    "equal-5k-d": Study("equal-5k", ("mini-imagenet",), ("maml", "relationnet", "matchingnet", "finetune", "nn"),
                        seeds=(0,), first=("nn", "finetune", "matchingnet", "maml"), same_precision="row"),
    # issue 13: more seeds of the headline pair (dynamic CNN-4 - ProtoNet, a tie at (a)'s three seeds), trained
    # in fp32 on every machine: the 2026-12-05 session's CPU (AMD EPYC, AVX2 only) runs no native bf16, where
    # `auto` is fp32 and bf16 is emulated (slow); pinning fp32 keeps every pair in one precision whichever CPU
    # trains the next seeds. Each seed's pair is compared within itself, as (a)'s bf16 seeds are.
    "equal-5k-f": Study("equal-5k", ("mini-imagenet",), ("protonet", "dynamic-cnn4"), seeds=(3, 4, 5),
                        precision="fp32"),
    # issue 13 item 4: the meta-learned static NSN's inner step (0.4 in (a)) at 0.1 and the spec's 0.01, one seed
    # first; its code must train the metastatic row as (a)'s 2b06744 did (no change since to that path)
    "equal-5k-e": Study("equal-5k", ("mini-imagenet",), ("metastatic-a0.1", "metastatic-a0.01"), seeds=(0, 1, 2),
                        first=("metastatic-a0.01", "metastatic-a0.1")),
    # issue 12 item 5: the half-resolution predictor beside the spec predictor at the cpu budget
    "cpu-predictors": Study("cpu-predictors", ("mini-imagenet",), ("protonet", "dynamic-cnn4", "dynamic-cnn4-half-res"),
                            first=("dynamic-cnn4-half-res", "dynamic-cnn4")),
    # issue 16: the CIFAR-10 stand-in of the generic-recognition table
    "cifar-cpu": Study("cifar-cpu", ("mini-imagenet-generic",), ("plain", "static-dns", "static-uns", "dynamic-dns"),
                       table="cifar"),
}


@dataclass(frozen=True)
class Job:
    dataset: str
    row: str
    seed: int
    index: int  # the job's --shard index among the row's seeds (``--methods ROW --seeds S...``): seed position
    count: int  # the number of seeds

    @property
    def name(self) -> str:
        return f"{self.dataset}--{self.row}--seed-{self.seed}"

    def run_dir(self, runs: Path) -> Path:
        """The leaderboard's layout (``experiments/jobs.seed_run_dir``): ROW/seed-N with several seeds, else ROW."""
        row = runs / self.dataset / self.row
        return row / f"seed-{self.seed}" if self.count > 1 else row

    def kept_dir(self, study: str) -> Path:
        return RESULTS / study / "runs" / self.dataset / self.row / f"seed-{self.seed}"

    def parked_dir(self, study: str) -> Path:
        return RESULTS / study / "parked" / self.dataset / self.row / f"seed-{self.seed}"


def jobs_of(study: Study) -> List[Job]:
    """Every job, in the order workers take them: dataset; ``first`` rows before the others; seed; row."""
    out = []
    for dataset in study.datasets:
        for group in (list(study.first), [r for r in study.rows if r not in study.first]):
            for si, seed in enumerate(study.seeds):
                out.extend(Job(dataset, row, seed, si, len(study.seeds)) for row in group)
    return out


def eval_files(run_dir: Path) -> List[Path]:
    return sorted((run_dir / "eval").glob("*.json")) if (run_dir / "eval").is_dir() else []


def finished(run_dir: Path) -> bool:
    """Trained (DONE) and evaluated (an eval/*.json written after DONE)."""
    done = run_dir / "DONE"
    return done.exists() and any(p.stat().st_mtime >= done.stat().st_mtime for p in eval_files(run_dir))


def frozen_code(runs: Path, commit: str) -> Path:
    """``runs/code-<commit>``: the package as committed at ``commit`` (made once, from this checkout's git)."""
    full = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
                          check=True, capture_output=True, text=True).stdout.strip()
    code = runs / f"code-{full[:7]}"
    if not (code / "fewshot_nsl" / "__init__.py").exists():
        tmp = runs / f".code-{full[:7]}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", full], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        tmp.rename(code)
    return code


def training_now(run_dir: Path) -> bool:
    """Whether a live process holds ``run_dir``'s run lock (``runtime/run_lock.py``: an flock on ``.lock``)."""
    lock = run_dir / ".lock"
    if not lock.exists():
        return False
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops our own lock too
    return False


def claim(runs: Path, job: Job) -> bool:
    """Atomically claim ``job`` for this process; a claim whose process is gone is taken over, unless the job's
    training process outlived its worker (its run lock is held): then it is left to finish."""
    if training_now(job.run_dir(runs)):
        return False
    claims = runs / "claims"
    claims.mkdir(parents=True, exist_ok=True)
    path = claims / job.name
    try:
        path.mkdir()
    except FileExistsError:
        pid_file = path / "pid"
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            return False  # being written by another worker right now
        if Path(f"/proc/{pid}").exists():
            return False
        shutil.rmtree(path, ignore_errors=True)
        try:
            path.mkdir()
        except FileExistsError:
            return False
    (path / "pid").write_text(str(os.getpid()))
    return True


def release(runs: Path, job: Job) -> None:
    shutil.rmtree(runs / "claims" / job.name, ignore_errors=True)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def keep(study: str, job: Job, run_dir: Path, provenance: dict) -> Path:
    """Copy the finished ``run_dir`` (no checkpoints, TensorBoard or lock) into the checkout."""
    dest = job.kept_dir(study)
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ("config.yaml", "DONE", "metrics.jsonl", "class_split.json"):
        if (run_dir / name).exists():
            shutil.copy2(run_dir / name, tmp / name)
    (tmp / "eval").mkdir()
    for p in eval_files(run_dir):
        shutil.copy2(p, tmp / "eval" / p.name)
    weights = {p.name: sha256(p) for p in sorted((run_dir / "checkpoints").glob("*.pt"))}
    # every park of this job (the checkout's copy has the latest; the run's own is what its restore brought)
    parked = next((p for p in (job.parked_dir(study) / "PARKED.json", run_dir / "PARKED.json") if p.exists()), None)
    history = {"parked": json.loads(parked.read_text())} if parked else {}
    (tmp / "PROVENANCE.json").write_text(json.dumps({**provenance, **history, "checkpoint_sha256": weights},
                                                    indent=1) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    shutil.rmtree(job.parked_dir(study), ignore_errors=True)
    return dest


#: a checkpoint larger than this is not parked in the checkout (git keeps every parked version in its history)
PARK_MAX_BYTES = 32 << 20


def park(study_name: str, study: Study, runs: Path, commit: str) -> List[str]:
    """Copy every unfinished job's newest checkpoint into the checkout (``Job.parked_dir``); one line per job.

    ``last.pt`` is copied before ``best.pt``: a validation written between the two copies then leaves a best.pt
    newer than last.pt, which resumes correctly (the trainer's own write order, trainer._save), never the reverse.
    The copy is made beside the parked folder and renamed over it, so a parked job is whole or absent."""
    lines = []
    for job in jobs_of(study):
        run_dir = job.run_dir(runs)
        last = run_dir / "checkpoints" / "last.pt"
        if finished(run_dir) or not last.exists() or (job.kept_dir(study_name) / "DONE").exists():
            continue
        dest = job.parked_dir(study_name)
        tmp = dest.with_name(dest.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "checkpoints").mkdir(parents=True)
        too_big = [p.name for p in (last, run_dir / "checkpoints" / "best.pt")
                   if p.exists() and p.stat().st_size > PARK_MAX_BYTES]
        if too_big:
            shutil.rmtree(tmp)
            lines.append(f"not parked {job.name}: {', '.join(too_big)} over {PARK_MAX_BYTES >> 20} MiB")
            continue
        for name in ("last.pt", "best.pt"):
            if (run_dir / "checkpoints" / name).exists():
                shutil.copy2(run_dir / "checkpoints" / name, tmp / "checkpoints" / name)
        for name in ("config.yaml", "metrics.jsonl", "class_split.json"):
            if (run_dir / name).exists():
                shutil.copy2(run_dir / name, tmp / name)
        history = json.loads((run_dir / "PARKED.json").read_text()) if (run_dir / "PARKED.json").exists() else []
        episodes = _checkpoint_episodes(tmp / "checkpoints" / "last.pt")
        history.append({"code_commit": commit, "cpu_model": _cpu_model(), "cpu_numerics": cpu_numerics(),
                        "episodes": episodes, "parked": dt.datetime.now().isoformat(timespec="seconds")})
        (tmp / "PARKED.json").write_text(json.dumps(history, indent=1) + "\n")
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        lines.append(f"parked {job.name} at {episodes} episodes in {_shown(dest)}")
    return lines


def _checkpoint_episodes(path: Path) -> Optional[int]:
    """The episodes a checkpoint has trained (its last metrics record), read without running code."""
    try:
        from fewshot_nsl.runtime.checkpoint import load_checkpoint  # the safe loader: allow-listed globals only
        state = load_checkpoint(path)
        records = [m for m in state.get("metrics", []) if "episode" in m]
        return int(records[-1]["episode"]) if records else 0
    except Exception:  # noqa: BLE001 - a description only; the copy is what matters
        return None


def restore(study_name: str, study: Study, runs: Path) -> int:
    """Put every kept job back under ``runs`` where that run directory holds no finished run; the count."""
    n = 0
    for job in jobs_of(study):
        src, dest = job.kept_dir(study_name), job.run_dir(runs)
        if not (src / "DONE").exists() or finished(dest):
            continue
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest)
        (dest / "PROVENANCE.json").unlink(missing_ok=True)
        done = (dest / "DONE").stat().st_mtime
        for p in eval_files(dest):  # git does not keep mtimes: the evaluation must read as made after training
            os.utime(p, (done + 1, done + 1))
        n += 1
    return n


def restore_parked(study_name: str, study: Study, runs: Path) -> int:
    """Put every parked job back under ``runs`` where that run directory has no checkpoint of its own (a newer
    one, e.g. of the same machine's killed worker, wins) and the job is not kept; the count."""
    n = 0
    for job in jobs_of(study):
        src, dest = job.parked_dir(study_name), job.run_dir(runs)
        if not (src / "checkpoints" / "last.pt").exists() or (job.kept_dir(study_name) / "DONE").exists():
            continue
        if (dest / "checkpoints" / "last.pt").exists() or finished(dest):
            continue
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)
        n += 1
    return n


def accuracy(run_dir: Path) -> Optional[str]:
    for p in eval_files(run_dir):
        data = json.loads(p.read_text())
        mean = data.get("mean", data.get("top1_error"))
        ci = data.get("ci95")
        if isinstance(mean, (int, float)):
            return f"{100 * mean:.2f}" + (f" ± {100 * ci:.2f}" if isinstance(ci, (int, float)) else "")
    return None


def status(study_name: str, study: Study, runs: Path) -> None:
    for job in jobs_of(study):
        run_dir = job.run_dir(runs)
        if finished(run_dir):
            state = f"done   {accuracy(run_dir)}"
        elif (runs / "claims" / job.name).exists() or training_now(run_dir):
            state = "running"
        elif (run_dir / "checkpoints").exists():
            state = "partial"
        elif (job.parked_dir(study_name) / "checkpoints" / "last.pt").exists():
            state = "parked"
        else:
            state = "pending"
        kept = "kept" if (job.kept_dir(study_name) / "DONE").exists() else ""
        print(f"{job.name:48s} {state:24s} {kept}")


def run_job(study: Study, job: Job, runs: Path, code: Path, core: Optional[int], python: str) -> int:
    table = [] if study.table == "fewshot" else ["--table", study.table]  # older commits know no --table
    cmd = [python, "-m", "fewshot_nsl", "leaderboard", *table, "--budget", study.budget, "--dataset", job.dataset,
           "--out", str(runs / job.dataset), "--seeds", *map(str, study.seeds),
           "--methods", job.row, "--shard", f"{job.index}/{job.count}", "--no-progress",
           *(["--precision", study.precision] if study.precision else [])]
    if core is not None:
        cmd = ["taskset", "-c", str(core), *cmd]
    env = {**os.environ, "PYTHONPATH": str(code), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    log = runs / "logs" / f"{job.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(f"# {dt.datetime.now().isoformat(timespec='seconds')} {' '.join(cmd)}\n")
        f.flush()
        return subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, cwd=str(runs)).returncode


def provenance(study_name: str, commit: str, core: Optional[int], wall: Optional[float]) -> dict:
    return {"study": study_name, "code_commit": commit, "cpu_model": _cpu_model(), "cpu_numerics": cpu_numerics(),
            "core": core, "threads": 1,
            "session_wall_s": None if wall is None else round(wall, 1),
            "finished": dt.datetime.now().isoformat(timespec="seconds")}


def keep_orphans(study_name: str, study: Study, runs: Path, commit: str) -> None:
    """Keep every finished job not kept yet (e.g. one whose worker was stopped while its training went on)."""
    for job in jobs_of(study):
        run_dir, kept = job.run_dir(runs), job.kept_dir(study_name)
        if finished(run_dir) and not (kept / "DONE").exists():
            keep(study_name, job, run_dir, provenance(study_name, commit, None, None))
            print(f"kept {job.name} (finished without its worker) in {_shown(kept)}", flush=True)


def kept_precision(kept: Path) -> Optional[str]:
    """The precision a kept job trained in: its config.yaml's resolved ``train.precision`` (None: unreadable)."""
    try:
        return yaml.safe_load((kept / "config.yaml").read_text())["train"]["precision"]
    except (OSError, KeyError, TypeError, ValueError):
        return None


def machine_precision(study: Study, code: Path, python: str) -> str:
    """The precision this machine trains the study's jobs in: the pinned one, or what the frozen code resolves
    ``auto`` to here (bf16 only where the CPU runs it natively)."""
    if study.precision and study.precision != "auto":
        return study.precision
    probe = ("import torch; from fewshot_nsl.runtime.precision import resolve_precision; "
             "print(resolve_precision('auto', torch.device('cpu')))")
    env = {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.run([python, "-c", probe], env=env, check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]


def precision_conflict(study_name: str, study: Study, precision: str) -> Optional[str]:
    """One line naming a kept (or parked) job that trained in another precision than ``precision`` where this study's rule
    (:attr:`Study.same_precision`) says they must match and a job of that scope is still to train; else None.

    Why: a study's rows are compared seed by seed, and a machine without native bf16 resolves ``auto`` to fp32
    (the 2026-12-05 session's AMD EPYC, AVX2 only, started fp32 jobs beside bf16 kept ones before this check)."""
    jobs = jobs_of(study)
    for job in jobs:
        if (job.kept_dir(study_name) / "DONE").exists():
            continue  # only a job still to train can break the rule
        scope = jobs if study.same_precision == "study" else [j for j in jobs if j.row == job.row]
        for other in scope:
            kept, parked = other.kept_dir(study_name), other.parked_dir(study_name)
            theirs, how = ((kept_precision(kept), "kept") if (kept / "DONE").exists() else
                           (kept_precision(parked), "parked") if (parked / "checkpoints" / "last.pt").exists() else
                           (None, ""))
            if theirs is not None and theirs != precision:
                return (f"study {study_name}: {how} job {other.name} trained in {theirs}, but this machine would train "
                        f"{job.name} in {precision} (a study's {'rows' if study.same_precision == 'study' else 'seeds'} "
                        f"must share one precision); run it on a CPU that resolves to {theirs}, or pin the "
                        f"study's precision")
    return None


def expected_minutes(study_name: str, study: Study, job: Job) -> Optional[float]:
    """The longest kept wall time of the same row (same dataset first), None when none is kept yet."""
    for same_dataset in (True, False):
        walls = []
        for other in jobs_of(study):
            if other.row != job.row or (same_dataset and other.dataset != job.dataset):
                continue
            kept = other.kept_dir(study_name)
            path = kept / "PROVENANCE.json"
            wall = json.loads(path.read_text()).get("session_wall_s") if path.exists() else None
            if wall is None and (kept / "DONE").exists():  # kept without its worker: the training's own wall time
                wall = json.loads((kept / "DONE").read_text() or "{}").get("wall_s")
            if isinstance(wall, (int, float)):
                walls.append(wall / 60)
        if walls:
            return max(walls)
    return None


def parse_deadline(text: str, now: dt.datetime) -> dt.datetime:
    """The next ``HH:MM`` on the clock after ``now``: today, or tomorrow when that time of day has passed
    (a session that ends after midnight). Bad text: SystemExit 2 with one line naming the setting."""
    try:
        hour, minute = (int(v) for v in text.split(":"))
        deadline = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError:
        print(f"error: --deadline must be HH:MM (24-hour clock), got {text!r}", file=sys.stderr)
        raise SystemExit(2) from None
    return deadline if deadline > now else deadline + dt.timedelta(days=1)


def fits(study_name: str, study: Study, job: Job, deadline: Optional[dt.datetime],
         unknown_minutes: float = 60.0) -> bool:
    """Whether ``job`` is expected to end by ``deadline`` (a row with nothing kept yet: ``unknown_minutes``)."""
    if deadline is None:
        return True
    minutes = expected_minutes(study_name, study, job)
    return dt.datetime.now() + dt.timedelta(minutes=unknown_minutes if minutes is None else minutes) <= deadline


def worker(study_name: str, study: Study, runs: Path, code: Path, commit: str, core: Optional[int],
           python: str, deadline: Optional[dt.datetime] = None, unknown_minutes: float = 60.0) -> int:
    failures = 0
    while True:
        keep_orphans(study_name, study, runs, commit)
        if (runs / "STOP").exists():
            print(f"worker core={core}: {runs / 'STOP'} exists, stopping", flush=True)
            return 0
        todo = [j for j in jobs_of(study) if not finished(j.run_dir(runs))]
        job = next((j for j in todo if fits(study_name, study, j, deadline, unknown_minutes) and claim(runs, j)), None)
        if job is None:
            print(f"worker core={core}: nothing left to claim ({len(todo)} unfinished: claimed by others"
                  f"{' or not expected to end by the deadline' if deadline else ''})", flush=True)
            return 1 if failures else 0
        start = time.time()
        print(f"{dt.datetime.now():%H:%M:%S} core={core} start {job.name}", flush=True)
        with (runs / "commits.log").open("a") as f:
            f.write(f"{dt.datetime.now().isoformat(timespec='seconds')} {job.name} code={commit} core={core}\n")
        try:
            rc = run_job(study, job, runs, code, core, python)
            wall = time.time() - start
            if rc == 0 and finished(job.run_dir(runs)):
                dest = keep(study_name, job, job.run_dir(runs), provenance(study_name, commit, core, wall))
                print(f"{dt.datetime.now():%H:%M:%S} core={core} done  {job.name} {accuracy(job.run_dir(runs))} "
                      f"({wall / 60:.1f} min) kept in {_shown(dest)}", flush=True)
            else:
                failures += 1
                log = runs / "logs" / f"{job.name}.log"
                print(f"core={core} FAILED {job.name} rc={rc}: see {log}", flush=True)
                if rc == 2:  # bad input (the toolkit's one-line errors): another try cannot help
                    print(f"core={core} stopping: {log.read_text().strip().splitlines()[-1]}", flush=True)
                    return 2
                if failures >= 3:
                    return 1
        finally:
            release(runs, job)


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# The instruction sets that decide which oneDNN/MKL kernels a CPU runs, hence the rounding of a bf16 or fp32 step:
# the same code and seed trained bit-identically on two AMD EPYC machines but not on an Intel Xeon with AMX
# (benchmarks/RESULTS.md, the equal-5k study), so a kept job names them.
NUMERICS_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_fp16")


def cpu_numerics(cpuinfo: Optional[str] = None) -> dict:
    """``{"vendor": ..., "flags": [...]}``: the CPU's vendor and which of ``NUMERICS_FLAGS`` it has."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return {"vendor": platform.processor() or "unknown", "flags": None}
    vendor, flags = "unknown", set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "vendor_id":
            vendor = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
            break  # every core reports the same flags
    return {"vendor": vendor, "flags": [f for f in NUMERICS_FLAGS if f in flags]}


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", choices=sorted(STUDIES))
    ap.add_argument("--runs", type=Path, required=True, help="the study's folder, outside the checkout")
    ap.add_argument("--code", required=True, help="the commit whose package trains every job")
    ap.add_argument("--core", type=int, help="pin this worker to one core (taskset), one thread")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--restore", action="store_true", help="put the kept jobs back under --runs, then stop (every "
                                                           "worker also does this first)")
    ap.add_argument("--status", action="store_true", help="print every job's state, then stop")
    ap.add_argument("--park", action="store_true",
                    help="copy every unfinished job's newest checkpoint into the checkout (commit it; the next "
                         "session's workers resume from it), then stop; the training itself goes on")
    ap.add_argument("--deadline", help="HH:MM (the next one on the clock: today, or tomorrow once passed): start no "
                                       "job expected (from the kept wall times of its row) "
                                       "to end later; touch RUNS/STOP to stop the workers after their jobs")
    ap.add_argument("--unknown-minutes", type=float, default=60.0,
                    help="--deadline: the expected length of a job of a row with nothing kept yet")
    ap.add_argument("--start", type=int, metavar="N",
                    help="restore the kept jobs, start N detached workers on cores 0..N-1 (logs RUNS/worker-C.log) "
                         "with the other options given here, and return: the one command of a new session")
    args = ap.parse_args(argv)
    study, runs = STUDIES[args.study], args.runs.expanduser().resolve()
    runs.mkdir(parents=True, exist_ok=True)
    if args.status:
        status(args.study, study, runs)
        return 0
    # every call that may train restores first: a worker started without --start/--restore on a fresh folder
    # would otherwise train its kept jobs again and overwrite them in the checkout
    if args.park:
        for line in park(args.study, study, runs, args.code):
            print(line)
        return 0
    print(f"restored {restore(args.study, study, runs)} kept job(s) and "
          f"{restore_parked(args.study, study, runs)} parked one(s) under {runs}")
    if args.restore:
        return 0
    code = frozen_code(runs, args.code)  # once, before --start's workers race to make it
    conflict = precision_conflict(args.study, study, machine_precision(study, code, args.python))
    if conflict:
        print(f"error: {conflict}", file=sys.stderr)
        return 2
    if args.start:
        (runs / "STOP").unlink(missing_ok=True)
        for core in range(args.start):
            cmd = [args.python, str(Path(__file__).resolve()), args.study, "--runs", str(runs), "--code", args.code,
                   "--core", str(core), "--unknown-minutes", str(args.unknown_minutes),
                   *(["--deadline", args.deadline] if args.deadline else [])]
            with (runs / f"worker-{core}.log").open("a") as log:
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            print(f"worker on core {core}: pid {proc.pid}, log {runs / f'worker-{core}.log'}")
        return 0
    deadline = parse_deadline(args.deadline, dt.datetime.now()) if args.deadline else None
    return worker(args.study, study, runs, code, code.name[len("code-"):], args.core, args.python, deadline,
                  args.unknown_minutes)


if __name__ == "__main__":
    sys.exit(main())
