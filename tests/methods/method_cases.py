"""Test cases derived from the method registry (as timm's tests do over ``list_models()``): a method registered in
``fewshot_nsl.methods`` is covered by the contract tests without editing them.
(Imported by name: keep this file name unique in the tree.)"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Tuple

from fewshot_nsl.methods import get_method, method_names
from fewshot_nsl.methods.base import MethodOptions
from fewshot_nsl.runtime.config import resolve_config

#: options that take values beyond the bool flips :func:`option_variants` derives; a key must be a registered
#: method (checked by :func:`plain_cases`), and a new method needs no entry
EXTRA_VARIANTS: Dict[str, List[Dict[str, Any]]] = {"nn": [{"metric": "euclidean"}]}


def plain_methods() -> List[str]:
    """Registered methods whose preset (or the schema default, without one) uses a plain backbone. The NS methods
    refuse a plain one; they are tested in test_nsn_methods.py and test_metastatic_fast_weights.py."""
    return [name for name in method_names() if resolve_config(name).model.nsl == "none"]


def capped_ints(options: MethodOptions, cap: int) -> Dict[str, int]:
    """``{name: cap}`` for every int option above ``cap``: the knobs (inner steps, epochs, batch sizes) that set a
    method's cost, so that a test stays small whatever the method."""
    values = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    return {k: cap for k, v in values.items() if type(v) is int and v > cap}


def option_variants(name: str, cap: int) -> List[Dict[str, Any]]:
    """The method's default options (int options capped at ``cap``), then, per bool option, the default with
    that option flipped, then :data:`EXTRA_VARIANTS`."""
    defaults = get_method(name).Options()
    base: Dict[str, Any] = capped_ints(defaults, cap)
    flips = [{**base, f.name: not getattr(defaults, f.name)} for f in dataclasses.fields(defaults)
             if type(getattr(defaults, f.name)) is bool]
    return [base, *flips, *({**base, **extra} for extra in EXTRA_VARIANTS.get(name, ()))]


def plain_cases(cap: int) -> List[Tuple[str, Dict[str, Any]]]:
    """(method, options) for every plain-backbone method and each of its :func:`option_variants`."""
    unknown = set(EXTRA_VARIANTS) - set(method_names())
    assert not unknown, f"EXTRA_VARIANTS names unregistered methods: {sorted(unknown)}"
    return [(name, options) for name in plain_methods() for options in option_variants(name, cap)]


def case_id(name: str, options: Dict[str, Any]) -> str:
    return f"{name}-{'-'.join(f'{k}={v}' for k, v in options.items()) or 'default'}"


def small_overrides(name: str, cap: int = 1) -> List[str]:
    """``--set`` overrides that cap every int option of ``name``'s preset at ``cap`` (a quick run of any method)."""
    return [f"method.{k}={v}" for k, v in capped_ints(resolve_config(name).method_options(), cap).items()]
