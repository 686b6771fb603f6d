"""Fold a static NSN for inference: every static NSConv2d becomes the plain ``nn.Conv2d`` with W' = M^T W."""

from __future__ import annotations

import copy

from torch import nn

from .nsconv import NSConv2d


def _fold_children(module: nn.Module) -> int:
    count = 0
    for name, child in module.named_children():
        if isinstance(child, NSConv2d) and not child.dynamic:
            conv = child.fold()
            conv.train(child.training)
            setattr(module, name, conv)
            count += 1
        else:
            count += _fold_children(child)
    return count


def fold_static(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` whose static NS layers are replaced by their folded ``nn.Conv2d``.

    Dynamic NS layers are kept as they are (their M depends on the input). The copy computes the same function
    (up to float rounding) at the cost of the plain network; the original is left untouched.
    """
    folded = copy.deepcopy(model)
    if isinstance(folded, NSConv2d) and not folded.dynamic:
        return folded.fold().train(folded.training)
    _fold_children(folded)
    return folded
