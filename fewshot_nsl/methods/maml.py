"""MAML (Finn et al., 2017): a few SGD steps on the support set, scored on the query set.

The inner loop runs on *fast weights* (a dict name -> tensor) through :func:`torch.func.functional_call`,
so the module's own parameters are never modified; the outer loop is the trainer's optimiser, which
receives the gradient of the query loss of the adapted weights w.r.t. the initial weights
(second-order, or first-order with ``first_order: true``).

Batch norm: every BN layer always normalises with the statistics of the batch at hand (the support batch
in the inner loop, the query batch for the query), in training and at test time, as in MAML's reference
code; running statistics are neither used nor updated (see :func:`task_mode`). The network is put in
train mode while a task is adapted and scored, and restored afterwards.

Head: a linear layer of ``train_way`` outputs on the backbone features, meta-learned like the rest. An
episode of another way raises ConfigError (train and evaluate MAML with the same way).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from ..core.errors import ConfigError
from ..episodes.batch import EpisodeBatch
from .base import FewShotMethod, MethodOptions, accuracy
from .registry import register_method

FastWeights = dict[str, torch.Tensor]


@contextlib.contextmanager
def task_mode(module: nn.Module) -> Iterator[None]:
    """Train mode for every submodule, batch statistics in every BN layer, running stats left untouched.

    Restores each submodule's ``training`` flag and each BN layer's ``track_running_stats`` on exit.
    """
    modes = [(m, m.training) for m in module.modules()]
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    tracking = [m.track_running_stats for m in norms]
    try:
        module.train()
        for m in norms:
            m.track_running_stats = False
        yield
    finally:
        for m, flag in zip(norms, tracking):
            m.track_running_stats = flag
        for m, training in modes:
            m.training = training


@register_method("maml")
class MAML(FewShotMethod):
    """Model-agnostic meta-learning over all parameters of backbone + linear head."""

    @dataclass
    class Options(MethodOptions):
        """inner_steps / test_inner_steps: SGD steps on the support set in training / evaluation;
        inner_lr: their step size; first_order: drop the second-order terms (FOMAML)."""

        inner_steps: int = 5
        test_inner_steps: int = 10
        inner_lr: float = 0.01
        first_order: bool = False

    features_depend_on_episode = True

    def _build(self) -> None:
        o = self.options
        if o.inner_steps < 0 or o.test_inner_steps < 0:
            raise ConfigError(f"method.inner_steps and method.test_inner_steps must be >= 0, got "
                              f"{o.inner_steps} and {o.test_inner_steps}")
        if o.inner_lr <= 0:
            raise ConfigError(f"method.inner_lr must be > 0, got {o.inner_lr}")
        self.head = nn.Linear(self.backbone.feature_dim(self.image_shape), self.train_way)

    def logits(self, fast: FastWeights, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, train_way) logits of backbone + head with ``fast`` weights (names as in
        ``self.named_parameters()``) in place of the module's own; parameters not in ``fast`` are the module's."""
        backbone = {n[len("backbone."):]: w for n, w in fast.items() if n.startswith("backbone.")}
        head = {n[len("head."):]: w for n, w in fast.items() if n.startswith("head.")}
        return functional_call(self.head, head, (functional_call(self.backbone, backbone, (images,)),))

    # -- what the inner loop adapts ---------------------------------------------------------------
    def adapted_parameter_names(self) -> list[str]:
        """Names (as in ``self.named_parameters()``) of the parameters the inner loop adapts: all of them."""
        return [name for name, p in self.named_parameters() if p.requires_grad]

    def _initial_fast_weights(self, keep_graph: bool) -> FastWeights:
        params = dict(self.named_parameters())
        names = self.adapted_parameter_names()
        if keep_graph:
            return {n: params[n] for n in names}
        return {n: params[n].detach().requires_grad_() for n in names}

    def _check_way(self, way: int) -> None:
        if way != self.train_way:
            raise ConfigError(f"{type(self).__name__}: the head has {self.train_way} outputs (task.way) but the "
                              f"episode is {way}-way; use the same way for training and evaluation")

    def adapt(
        self, support: torch.Tensor, support_labels: torch.Tensor, steps: int, create_graph: bool,
        keep_graph: bool = True,
    ) -> FastWeights:
        """Fast weights after ``steps`` SGD steps on the (S, C, H, W) support with (S,) labels.

        Args:
            create_graph: differentiate through the inner gradients (second-order MAML).
            keep_graph: the fast weights stay functions of the module's parameters (training); when False
                every step starts from detached tensors (evaluation: nothing is kept for a backward pass).
        Must be called inside :func:`task_mode`.
        """
        fast = self._initial_fast_weights(keep_graph)
        for _ in range(steps):
            logits = self.logits(fast, support)
            inner_loss = nn.functional.cross_entropy(logits, support_labels)
            grads = torch.autograd.grad(inner_loss, list(fast.values()), create_graph=create_graph,
                                        allow_unused=True)
            lr = self.options.inner_lr
            fast = {n: w if g is None else w - lr * g for (n, w), g in zip(fast.items(), grads)}
            if not keep_graph:
                fast = {n: w.detach().requires_grad_() for n, w in fast.items()}
        return fast

    # -- FewShotMethod ------------------------------------------------------------------------------
    def predict(
        self, support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor, way: int
    ) -> torch.Tensor:
        """(Q, way) logits (detached) after ``test_inner_steps`` steps on the support set; needs no outer graph."""
        self._check_way(way)
        with task_mode(self), torch.enable_grad():
            fast = self.adapt(support, support_labels, self.options.test_inner_steps, create_graph=False,
                              keep_graph=False)
            with torch.no_grad():
                return self.logits(fast, query).detach()

    def loss(self, episode: EpisodeBatch) -> tuple[torch.Tensor, dict[str, float]]:
        """Query cross-entropy of the weights adapted by ``inner_steps`` steps; differentiable w.r.t. the
        initial weights (through the inner gradients unless ``first_order``)."""
        self._check_way(episode.way)
        with task_mode(self):
            fast = self.adapt(episode.support, episode.support_labels, self.options.inner_steps,
                              create_graph=not self.options.first_order, keep_graph=True)
            logits = self.logits(fast, episode.query)
        loss = nn.functional.cross_entropy(logits, episode.query_labels)
        return loss, {"accuracy": float(accuracy(logits.detach(), episode.query_labels))}
