"""Episodic (or supervised) training with exact resume, atomic checkpoints, signals and NaN guards.

Every training item is a pure function of (seed, index), so a run killed at any point and resumed from its last
checkpoint ends with the same weights and evaluation numbers as an uninterrupted run. How the validation
episodes are scored is not decided here: the caller passes a :class:`~.validation.Validator`
(:func:`fewshot_nsl.experiments.train_run.train` passes the evaluator's).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import numpy as np
import torch
from tqdm import tqdm

from ..data import load_split
from ..episodes.sampler import EpisodeSampler
from ..layers.regularizers import regularization
from ..methods.base import FewShotMethod
from ..runtime.build import build_method
from ..core.atomic import atomic_write_text
from ..runtime.checkpoint import load_checkpoint, save_checkpoint
from ..runtime.config import Config, save_config
from ..runtime.device import resolve_device, set_threads
from ..runtime.distributed import DistInfo, barrier, episode_index, init_distributed
from ..runtime.memory_format import place_method
from ..runtime.precision import autocast, grad_scaler, slow_training_warning
from ..runtime.run_dir import RunDir
from ..runtime.run_lock import RunLock
from .checkpointing import CheckpointSchedule
from .errors import TrainingDiverged, TrainingInterrupted
from .optim import build_optimizer, build_scheduler
from .precision_choice import run_precision, with_precision
from .rng_state import rng_state, set_rng_state
from .stop_signal import StopFlag
from .stream import make_transform, training_stream
from .tensorboard import ScalarLog, scalar_log, summary_writer_class
from .train_state import check_same_config, check_world_size, load_model_state
from .validation import Validator, validate_sharded

__all__ = ["Trainer", "TrainingDiverged", "TrainingInterrupted", "make_transform"]

log = logging.getLogger(__name__)


class Trainer:
    """Trains ``config`` into ``out_dir``, scoring validation with ``validator``; :meth:`fit` runs it.

    Re-running into a run directory resumes from ``checkpoints/last.pt`` (unless ``resume=False``); a finished
    run (``DONE`` present) returns at once. Bad input raises :class:`~fewshot_nsl.core.errors.FewShotError`
    before anything in ``out_dir`` is changed; so does a run directory another process trains into
    (:class:`~fewshot_nsl.runtime.run_lock.RunLock`, held by rank 0 during :meth:`fit`).
    """

    def __init__(self, config: Config, out_dir: Path, validator: Validator, resume: bool = True) -> None:
        self.config = config
        self.run = RunDir(Path(out_dir))
        self.validator = validator
        self.resume = resume
        set_threads(config.train.threads)
        self.device = resolve_device(config.train.device)
        self.dist: DistInfo = init_distributed(self.device)
        if self.dist.enabled:
            self.device = resolve_device(config.train.device, self.dist.local_rank)
            set_threads(config.train.threads, self.dist.world_size)
        if self.dist.is_main:
            self.run.check_writable()
        if config.train.tensorboard:
            summary_writer_class()  # refuse a missing package before anything is written
        d = config.data
        rule = d.class_split_rule()
        self.train_images = load_split(d.dataset, d.train_split, d.data_root, d.image_size, d.cache_dir, rule)
        self.val_images = load_split(d.dataset, d.val_split, d.data_root, d.image_size, d.cache_dir, rule)
        e = config.eval
        val_sampler = EpisodeSampler(
            self.val_images.labels, e.way, e.shot, e.query, seed=e.seed,
            class_names=self.val_images.class_names, where=f"{d.dataset}/{d.val_split}",
        )
        self.val_episodes = [val_sampler.episode(i) for i in range(config.train.val_episodes)]
        torch.manual_seed(config.train.seed)  # the one seed of the weights' initialisation
        self.method: FewShotMethod = build_method(config, self.train_images.image_shape, self.train_images.num_classes)
        place_method(self.method, self.device, config.train.channels_last)
        self.optimizer = build_optimizer(config, [p for p in self.method.parameters() if p.requires_grad])
        self.meta_batch = config.train.meta_batch
        self.global_batch = self.meta_batch * self.dist.world_size
        self.total_steps = math.ceil(config.train.episodes / self.global_batch)
        self.scheduler = build_scheduler(config, self.optimizer, self.global_batch)
        # the resolved precision (never auto) is what config.yaml records and every forward pass runs in
        self.precision = run_precision(config.train, self.device, self.run.config if resume else None)
        self.config = with_precision(config, self.precision)
        slow = slow_training_warning(self.precision, self.device)
        if slow:
            log.warning(slow)
        self.scaler = grad_scaler(self.precision, self.device)  # a pass-through except in fp16
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
        self.window: List[Dict[str, float]] = []  # step stats since the last metrics line (kept by checkpoints)
        self.schedule = CheckpointSchedule.from_config(config)
        self.scalars: ScalarLog | None = None

    # -- checkpoints (their layout: see .train_state) ---------------------------------------------
    def _state(self) -> Dict[str, Any]:
        return {
            "model": self.method.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "episodes_seen": self.step * self.global_batch,
            "rng": rng_state(),
            "metrics": self.metrics,
            "log_window": list(self.window),
            "best_accuracy": self.best_accuracy,
            "config": self.config.to_dict(),
            "image_shape": list(self.train_images.image_shape),
            "num_base_classes": self.train_images.num_classes,
            "mean": list(self.train_images.mean),
            "std": list(self.train_images.std),
            "world_size": self.dist.world_size,
            "wall_s": self.wall_before + time.time() - self.started,
        }

    def _try_resume(self) -> None:
        if not self.resume or not self.run.last.exists():
            return
        check_same_config(self.run, self.config)
        state = load_checkpoint(self.run.last, map_location=self.device)
        load_model_state(self.method, state, self.run.last)
        check_world_size(state, self.run.last, self.dist.world_size)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        set_rng_state(state["rng"])
        self.step = int(state["step"])
        self.metrics = list(state["metrics"])
        self.window = list(state.get("log_window", []))
        self.best_accuracy = float(state["best_accuracy"])
        self.wall_before = float(state.get("wall_s", 0.0))
        if self.dist.is_main:  # the metrics file holds exactly what the checkpoint knew
            atomic_write_text(self.run.metrics, "".join(json.dumps(m) + "\n" for m in self.metrics))
        log.info("resuming %s at step %d of %d", self.run.root, self.step, self.total_steps)

    def _save(self, best: bool) -> None:
        if not self.dist.is_main:
            return
        state = self._state()
        # best.pt before last.pt: a process killed between the two writes resumes from the previous last.pt and
        # repeats this validation, so best.pt is rewritten; the other order would leave a last.pt that counts
        # this validation as the best beside a best.pt that holds an older one, for good
        if best:
            save_checkpoint(state, self.run.best)
        save_checkpoint(state, self.run.last)
        self.schedule.saved()

    def _log(self, record: Dict[str, Any]) -> None:
        self.metrics.append(record)
        if self.dist.is_main:
            with open(self.run.metrics, "a") as handle:
                handle.write(json.dumps(record) + "\n")
            if self.scalars is not None:
                self.scalars.write(record)

    # -- the loop ---------------------------------------------------------------------------------
    def _to_device(self, item: Any) -> Any:
        if isinstance(item, tuple):
            return tuple(t.to(self.device, non_blocking=True) for t in item)
        return item.to(self.device, non_blocking=True)

    def _stream(self) -> Iterator[Any]:
        """This rank's training items from the current step on (see :func:`.stream.training_stream`)."""
        return training_stream(self.config, self.train_images, self.method.training_mode == "supervised",
                               self.step, self.total_steps, self.meta_batch, self.dist, self.device)

    def _train_step(self, stream: Iterator[Any]) -> Dict[str, float]:
        """One optimiser step over ``meta_batch`` items; their mean loss and training accuracy (fraction)."""
        self.method.train()
        self.optimizer.zero_grad(set_to_none=True)
        losses, accuracies = [], []
        for j in range(self.meta_batch):
            item = self._to_device(next(stream))
            index = item.index if hasattr(item, "index") else episode_index(
                self.step, self.dist.rank, j, self.meta_batch, self.dist.world_size)
            sync = j == self.meta_batch - 1 or not self.dist.enabled  # DDP all-reduces on the last item only
            ctx = contextlib.nullcontext() if sync else self.model.no_sync()  # type: ignore[operator]
            with ctx:
                with autocast(self.precision, self.device):
                    loss, metrics = self.model(item)
                # the loss and the regularisers are summed in fp32, whatever the forward pass ran in
                total = (loss.float() + regularization(self.method)) / self.meta_batch
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
        """``{"val_accuracy", "val_ci95"}`` (fractions) on the fixed validation episodes, sharded across ranks."""
        return validate_sharded(self.validator, self.method, self.val_images, self.val_episodes,
                                make_transform(self.val_images, False), self.device, self.dist, self.precision)

    def _start(self) -> bool:
        """Resume when there is a checkpoint; False when the run is already finished."""
        self._try_resume()
        if self.dist.is_main:
            if self.run.done.exists() and self.step >= self.total_steps:
                log.info("run %s is already finished", self.run.root)
                return False
            save_config(self.config, self.run.config)
            self.run.done.unlink(missing_ok=True)
            if self.step == 0:  # a fresh start: no metrics of an earlier run survive
                atomic_write_text(self.run.metrics, "")
        return True

    def fit(self) -> Path:
        """Train to ``train.episodes``, validating every ``train.val_every`` episodes; the run directory."""
        with RunLock(self.run.root) if self.dist.is_main else contextlib.nullcontext():
            if not self._start():
                return self.run.root
            on = self.config.train.tensorboard and self.dist.is_main
            with scalar_log(on, self.run.tensorboard, self.step * self.global_batch) as self.scalars:
                self._loop()
            self._finish()
        return self.run.root

    def _loop(self) -> None:
        stream = self._stream()
        c = self.config.train
        bar = tqdm(
            total=self.total_steps * self.global_batch, initial=self.step * self.global_batch, unit="ep",
            desc=f"train {self.config.method_name}", disable=not (c.progress and self.dist.is_main), dynamic_ncols=True,
        )
        self.schedule.saved()  # the time to the first periodic checkpoint counts from the start of training
        with StopFlag() as stop, bar:
            while self.step < self.total_steps:
                stats = self._train_step(stream)
                self.step += 1
                bar.update(self.global_batch)
                self.window.append(stats)
                seen = self.step * self.global_batch
                if self.step % c.log_every == 0 or self.step == self.total_steps:
                    record = {
                        "step": self.step, "episode": seen,
                        "loss": float(np.mean([w["loss"] for w in self.window])),
                        "accuracy": float(np.mean([w["accuracy"] for w in self.window])),
                        "lr": self.optimizer.param_groups[0]["lr"],
                    }
                    self.window.clear()
                    bar.set_postfix(loss=f"{record['loss']:.3f}", acc=f"{record['accuracy']:.3f}")
                    self._log(record)
                previous = (self.step - 1) * self.global_batch
                if seen // c.val_every > previous // c.val_every or self.step == self.total_steps:
                    self._validate_and_save(seen)
                elif self.schedule.due(previous, seen):
                    self._save(best=False)
                if stop.signum is not None:
                    self._save(best=False)
                    barrier(self.dist)
                    raise TrainingInterrupted(
                        f"interrupted at training episode {seen}; checkpoint written to {self.run.last}; "
                        "run the same command again to resume", stop.signum,
                    )

    def _validate_and_save(self, seen: int) -> None:
        wall = self.wall_before + time.time() - self.started  # the run's wall clock when this point was reached
        val = self.validate()
        improved = val["val_accuracy"] > self.best_accuracy
        if improved:
            self.best_accuracy = val["val_accuracy"]
        self._log({"step": self.step, "episode": seen, **val, "best": improved, "wall_s": wall})
        log.info("episode %d: val accuracy %.4f ± %.4f", seen, val["val_accuracy"], val["val_ci95"])
        self._save(best=improved)

    def _finish(self) -> None:
        if self.dist.is_main:
            summary = {"episodes": self.step * self.global_batch, "best_val_accuracy": self.best_accuracy,
                       "wall_s": self.wall_before + time.time() - self.started}
            atomic_write_text(self.run.done, json.dumps(summary) + "\n")
        barrier(self.dist)
