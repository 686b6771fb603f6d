"""Neural-similarity layers (NSL_SPEC §1-§5): NSConv2d, its predictors, folding, regularisers, introspection.

Example:
    >>> from fewshot_nsl.layers import NSConv2d, fold_static, regularization
    >>> conv = NSConv2d(64, 64, similarity="uns")            # static UNS, M = I at init
    >>> dyn = NSConv2d(64, 64, similarity="dns", dynamic=True)
"""

from .factory import ConvFactory, make_ns_conv
from .fold import fold_static
from .introspect import kernel_shapes, ns_layers, ns_matrices, similarity_parameter_names
from .nsconv import NSConv2d
from .options import NSL_VARIANTS, PARAMETERISATIONS, NSOptions
from .predictors import NormalizedConv2d, PredictorTrunk, SimilarityPredictor
from .regularizers import regularization
from .shape_gate import ShapeGate

__all__ = [
    "NSL_VARIANTS", "PARAMETERISATIONS", "ConvFactory", "NSOptions", "NSConv2d", "make_ns_conv",
    "NormalizedConv2d", "PredictorTrunk", "SimilarityPredictor", "ShapeGate", "fold_static", "regularization",
    "kernel_shapes", "ns_layers", "ns_matrices", "similarity_parameter_names",
]
