"""The in-place DNS mixing of the unfold route leaves its inputs alone and matches the definition (issue 12)."""

import torch
from ns_reference import definition, rand

from fewshot_nsl.layers.functional import ns_conv_unfold


def test_inplace_mixing_keeps_inputs_and_matches_definition_with_gradients():
    x, w, m = (rand(2, 3, 5, 4).requires_grad_(), rand(4, 3, 3, 3, seed=1).requires_grad_(),
               rand(2, 9, 5, 4, seed=2).requires_grad_())
    copies = [t.detach().clone() for t in (x, w, m)]
    full = torch.diag_embed(m.permute(0, 2, 3, 1)).permute(0, 3, 4, 1, 2)
    g = rand(2, 4, 5, 4, seed=3)
    got = torch.autograd.grad(ns_conv_unfold(x, w, m, 1), (x, w, m), g)
    want = torch.autograd.grad(definition(x, w, full), (x, w, m), g)
    assert all(torch.allclose(a, b, atol=1e-10) for a, b in zip(got, want))
    assert all(torch.equal(t, c) for t, c in zip((x, w, m), copies))
