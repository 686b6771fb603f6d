"""Episodic (or supervised) training with exact resume, atomic checkpoints, signals and NaN guards.

Every training item is a pure function of (seed, index), so a run killed at any point and resumed from its last
checkpoint ends with the same weights and evaluation numbers as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch
from tqdm import tqdm

from ..data import load_split
from ..data.base import ImageSet
from ..data.transforms import EpisodeTransform
from ..episodes.batches import EpisodeDataset, SupervisedDataset, make_loader
from ..episodes.sampler import EpisodeSampler
from ..core.errors import CheckpointError, ConfigError, FewShotError
from ..layers.regularizers import regularization
from ..methods.base import FewShotMethod
from ..runtime.build import build_method
from ..runtime.checkpoint import atomic_write_text, load_checkpoint, save_checkpoint
from ..runtime.config import RESUMABLE_CHANGES, Config, changed_settings, save_config
from ..runtime.device import resolve_device, set_threads
from ..runtime.distributed import DistInfo, all_gather_floats, barrier, episode_index, init_distributed
from ..runtime.memory_format import place_method
from ..runtime.run_dir import RunDir

log = logging.getLogger(__name__)


class TrainingDiverged(FewShotError):
    """The loss became NaN or infinite."""


class TrainingInterrupted(FewShotError):
    """SIGINT/SIGTERM arrived; the current step finished and a checkpoint was written."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


def _rng_state() -> Dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class _StopFlag:
    """Remembers a SIGINT/SIGTERM so the loop can stop after the current step."""

    def __init__(self) -> None:
        self.signum: Optional[int] = None
        self._previous: Dict[int, Any] = {}

    def __enter__(self) -> "_StopFlag":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None:  # a second signal: stop now
            raise KeyboardInterrupt
        self.signum = signum
        log.warning("received signal %d: finishing the current step, then writing a checkpoint", signum)

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def make_transform(images: ImageSet, augment: bool) -> EpisodeTransform:
    c, h, w = images.image_shape
    return EpisodeTransform(mean=images.mean, std=images.std, image_size=h, augment=augment)


def build_optimizer(config: Config, params: List[torch.nn.Parameter]) -> torch.optim.Optimizer:
    o = config.optim
    if o.optimizer == "adam":
        return torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay)
    if o.optimizer == "sgd":
        return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay, nesterov=False)
    raise ConfigError(f"setting optim.optimizer must be 'adam' or 'sgd', got {o.optimizer!r}")


class Trainer:
    """Trains ``config`` into ``out_dir``; see :func:`train`."""

    def __init__(self, config: Config, out_dir: Path, resume: bool = True) -> None:
        self.config = config
        self.run = RunDir(Path(out_dir))
        self.resume = resume
        set_threads(config.train.threads)
        self.device = resolve_device(config.train.device)
        self.dist: DistInfo = init_distributed(self.device)
        if self.dist.enabled:
            self.device = resolve_device(config.train.device, self.dist.local_rank)
            set_threads(config.train.threads, self.dist.world_size)
        if self.dist.is_main:
            self.run.ensure_writable()
        d = config.data
        self.train_images = load_split(d.dataset, d.train_split, d.data_root, d.image_size, d.cache_dir)
        self.val_images = load_split(d.dataset, d.val_split, d.data_root, d.image_size, d.cache_dir)
        e = config.eval
        val_sampler = EpisodeSampler(
            self.val_images.labels, e.way, e.shot, e.query, seed=e.seed,
            class_names=self.val_images.class_names, where=f"{d.dataset}/{d.val_split}",
        )
        self.val_episodes = [val_sampler.episode(i) for i in range(config.train.val_episodes)]
        torch.manual_seed(config.train.seed)
        self.method: FewShotMethod = build_method(config, self.train_images.image_shape, self.train_images.num_classes)
        place_method(self.method, self.device, config.train.channels_last)
        self.optimizer = build_optimizer(config, [p for p in self.method.parameters() if p.requires_grad])
        self.meta_batch = config.train.meta_batch
        self.global_batch = self.meta_batch * self.dist.world_size
        self.total_steps = math.ceil(config.train.episodes / self.global_batch)
        step_size = max(1, round(config.optim.lr_step / self.global_batch))
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size, gamma=config.optim.lr_gamma)
        self.use_amp = bool(config.train.amp and self.device.type == "cuda")
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.model: torch.nn.Module = self.method
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = torch.nn.parallel.DistributedDataParallel(
                self.method, device_ids=ids, find_unused_parameters=True
            )
        self.step = 0
        self.metrics: List[Dict[str, Any]] = []
        self.best_accuracy = -1.0
        self.started = time.time()
        self.wall_before = 0.0

    # -- checkpoints ------------------------------------------------------------------------------
    def _state(self) -> Dict[str, Any]:
        return {
            "model": self.method.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "episodes_seen": self.step * self.global_batch,
            "rng": _rng_state(),
            "metrics": self.metrics,
            "best_accuracy": self.best_accuracy,
            "config": self.config.to_dict(),
            "image_shape": list(self.train_images.image_shape),
            "num_base_classes": self.train_images.num_classes,
            "mean": list(self.train_images.mean),
            "std": list(self.train_images.std),
            "world_size": self.dist.world_size,
            "wall_s": self.wall_before + time.time() - self.started,
        }

    def _check_same_config(self) -> None:
        if not self.run.config.exists():
            return
        for key, old, new in changed_settings(self.run.config, self.config, RESUMABLE_CHANGES):
            raise ConfigError(
                f"run directory {self.run.root} was made with {key}={old!r}, not {new!r}; "
                "use another --out, or --no-resume to start it afresh"
            )

    def _try_resume(self) -> None:
        if not self.resume or not self.run.last.exists():
            return
        self._check_same_config()
        state = load_checkpoint(self.run.last, map_location=self.device)
        try:
            self.method.load_state_dict(state["model"])
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise CheckpointError(f"checkpoint {self.run.last} does not fit this model ({first})") from None
        if state.get("world_size", 1) != self.dist.world_size:
            raise CheckpointError(
                f"checkpoint {self.run.last} was written by {state.get('world_size', 1)} processes, not "
                f"{self.dist.world_size}; resume with the same --nproc"
            )
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        _set_rng_state(state["rng"])
        self.step = int(state["step"])
        self.metrics = list(state["metrics"])
        self.best_accuracy = float(state["best_accuracy"])
        self.wall_before = float(state.get("wall_s", 0.0))
        if self.dist.is_main:  # the metrics file holds exactly what the checkpoint knew
            atomic_write_text(self.run.metrics, "".join(json.dumps(m) + "\n" for m in self.metrics))
        log.info("resuming %s at step %d of %d", self.run.root, self.step, self.total_steps)

    def _save(self, best: bool) -> None:
        if not self.dist.is_main:
            return
        state = self._state()
        save_checkpoint(state, self.run.last)
        if best:
            save_checkpoint(state, self.run.best)

    def _log(self, record: Dict[str, Any]) -> None:
        self.metrics.append(record)
        if self.dist.is_main:
            with open(self.run.metrics, "a") as handle:
                handle.write(json.dumps(record) + "\n")

    # -- the loop ---------------------------------------------------------------------------------
    def _stream(self) -> Iterator[Any]:
        c, augment = self.config, self.config.data.augment
        transform = make_transform(self.train_images, augment)
        if self.method.training_mode == "supervised":
            dataset: Any = SupervisedDataset(self.train_images, c.train.batch_size, c.train.seed, transform, augment)
        else:
            sampler = EpisodeSampler(
                self.train_images.labels, c.task.way, c.task.shot, c.task.query, seed=c.train.seed,
                class_names=self.train_images.class_names, where=f"{c.data.dataset}/{c.data.train_split}",
            )
            dataset = EpisodeDataset(self.train_images, sampler, transform, augment)
        indices = [
            episode_index(s, self.dist.rank, j, self.meta_batch, self.dist.world_size)
            for s in range(self.step, self.total_steps)
            for j in range(self.meta_batch)
        ]
        loader = make_loader(dataset, indices, c.data.num_workers, pin_memory=self.device.type == "cuda")
        return iter(loader)

    def _to_device(self, item: Any) -> Any:
        if isinstance(item, tuple):
            return tuple(t.to(self.device, non_blocking=True) for t in item)
        return item.to(self.device, non_blocking=True)

    def _train_step(self, stream: Iterator[Any]) -> Dict[str, float]:
        self.method.train()
        self.optimizer.zero_grad(set_to_none=True)
        losses, accuracies = [], []
        for j in range(self.meta_batch):
            item = self._to_device(next(stream))
            index = item.index if hasattr(item, "index") else episode_index(
                self.step, self.dist.rank, j, self.meta_batch, self.dist.world_size)
            sync = j == self.meta_batch - 1 or not self.dist.enabled
            ctx = contextlib.nullcontext() if sync else self.model.no_sync()  # type: ignore[operator]
            with ctx:
                with torch.autocast(self.device.type, enabled=self.use_amp):
                    loss, metrics = self.model(item)
                    total = (loss + regularization(self.method)) / self.meta_batch
                if not torch.isfinite(loss.detach()):
                    raise TrainingDiverged(
                        f"loss became {float(loss.detach())} at training episode {index} (step {self.step}); "
                        f"the last good checkpoint {self.run.last} is untouched"
                    )
                self.scaler.scale(total).backward()
            losses.append(float(loss.detach()))
            accuracies.append(float(metrics.get("accuracy", float("nan"))))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return {"loss": float(np.mean(losses)), "accuracy": float(np.mean(accuracies))}

    def validate(self) -> Dict[str, float]:
        """Accuracy on the fixed validation episodes, sharded across ranks and gathered."""
        from ..evaluation.evaluator import evaluate

        if self.dist.enabled:  # every rank evaluates rank 0's model, BN running statistics included
            for buffer in self.method.buffers():
                torch.distributed.broadcast(buffer, 0)
        mine = self.val_episodes[self.dist.rank:: self.dist.world_size]
        result = evaluate(
            self.method, self.val_images, mine, make_transform(self.val_images, False), self.device, progress=False
        )
        ordered = all_gather_floats([a / 100.0 for a in result.accuracies], self.dist)  # percent -> fraction
        # all_gather returns rank-major blocks; restore episode order
        per_rank = [list(range(len(self.val_episodes)))[r:: self.dist.world_size] for r in range(self.dist.world_size)]
        accs = np.empty(len(self.val_episodes))
        accs[[i for block in per_rank for i in block]] = ordered
        mean = float(accs.mean())
        ci = float(1.96 * accs.std() / math.sqrt(len(accs)))
        return {"val_accuracy": mean, "val_ci95": ci}

    def fit(self) -> Path:
        self._try_resume()
        if self.dist.is_main:
            if self.run.done.exists() and self.step >= self.total_steps:
                log.info("run %s is already finished", self.run.root)
                return self.run.root
            save_config(self.config, self.run.config)
            self.run.done.unlink(missing_ok=True)
            if self.step == 0:  # a fresh start: no metrics of an earlier run survive
                atomic_write_text(self.run.metrics, "")
        stream = self._stream()
        window: List[Dict[str, float]] = []
        c = self.config.train
        bar = tqdm(
            total=self.total_steps * self.global_batch, initial=self.step * self.global_batch, unit="ep",
            desc=f"train {self.config.method_name}", disable=not (c.progress and self.dist.is_main), dynamic_ncols=True,
        )
        with _StopFlag() as stop, bar:
            while self.step < self.total_steps:
                stats = self._train_step(stream)
                self.step += 1
                bar.update(self.global_batch)
                window.append(stats)
                seen = self.step * self.global_batch
                if self.step % c.log_every == 0 or self.step == self.total_steps:
                    record = {
                        "step": self.step, "episode": seen,
                        "loss": float(np.mean([w["loss"] for w in window])),
                        "accuracy": float(np.mean([w["accuracy"] for w in window])),
                        "lr": self.optimizer.param_groups[0]["lr"],
                    }
                    window.clear()
                    bar.set_postfix(loss=f"{record['loss']:.3f}", acc=f"{record['accuracy']:.3f}")
                    self._log(record)
                previous = (self.step - 1) * self.global_batch
                if seen // c.val_every > previous // c.val_every or self.step == self.total_steps:
                    val = self.validate()
                    improved = val["val_accuracy"] > self.best_accuracy
                    if improved:
                        self.best_accuracy = val["val_accuracy"]
                    self._log({"step": self.step, "episode": seen, **val, "best": improved})
                    log.info("episode %d: val accuracy %.4f ± %.4f", seen, val["val_accuracy"], val["val_ci95"])
                    self._save(best=improved)
                if stop.signum is not None:
                    self._save(best=False)
                    barrier(self.dist)
                    raise TrainingInterrupted(
                        f"interrupted at training episode {seen}; checkpoint written to {self.run.last}; "
                        "run the same command again to resume", stop.signum,
                    )
        if self.dist.is_main:
            summary = {"episodes": self.step * self.global_batch, "best_val_accuracy": self.best_accuracy,
                       "wall_s": self.wall_before + time.time() - self.started}
            atomic_write_text(self.run.done, json.dumps(summary) + "\n")
        barrier(self.dist)
        return self.run.root


def train(config: Config, out_dir: Path, resume: bool = True) -> Path:
    """Train ``config`` into ``out_dir`` and return the run directory.

    Re-running into a run directory resumes from ``checkpoints/last.pt`` (unless ``resume=False``); a finished run
    (``DONE`` present) returns at once. Bad input raises :class:`~fewshot_nsl.core.errors.FewShotError` before anything
    in ``out_dir`` is changed.
    """
    return Trainer(config, Path(out_dir), resume=resume).fit()
