"""Find the NS layers of a model: their learned kernel shapes and their static similarity matrices."""

from __future__ import annotations

from typing import Dict, List

from torch import nn

from .nsconv import NSConv2d


def ns_layers(model: nn.Module) -> Dict[str, NSConv2d]:
    """Module name -> NS layer, in module order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, NSConv2d)}


def kernel_shapes(model: nn.Module) -> Dict[str, List[int]]:
    """Module name -> learned binary kernel shape (K,) row-major, of each layer built with learn_shape."""
    return {name: layer.kernel_shape() for name, layer in ns_layers(model).items() if layer.gate is not None}


def similarity_parameter_names(model: nn.Module) -> List[str]:
    """Names (as in ``model.named_parameters()``) of the static similarity matrices M of every static NS layer
    (the (K,) diagonal for DNS, the (K, K) matrix for UNS); shape-gate logits are not included."""
    return [f"{name}.M" if name else "M" for name, layer in ns_layers(model).items() if not layer.dynamic]


def ns_matrices(model: nn.Module) -> Dict[str, nn.Parameter]:
    """Parameter name -> static M parameter (the same names as :func:`similarity_parameter_names`)."""
    params = dict(model.named_parameters())
    return {name: params[name] for name in similarity_parameter_names(model)}
