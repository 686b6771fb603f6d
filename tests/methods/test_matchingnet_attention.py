"""MatchingNet: log of the cosine-attention mixture of support labels; FCE embeds in context."""

from __future__ import annotations

import torch
from method_helpers import IMAGE_SHAPE, synthetic_episode, tiny_mlp

from fewshot_nsl.methods.matchingnet import MatchingNet


def test_logits_are_log_of_cosine_attention_over_support_labels():
    method = MatchingNet(tiny_mlp(), IMAGE_SHAPE, 5, MatchingNet.Options(scale=2.0))
    g = torch.Generator().manual_seed(0)
    support, query = torch.randn(5, 6, generator=g), torch.randn(4, 6, generator=g)
    labels = torch.tensor([0, 2, 1, 0, 2])
    logits = method.predict_from_features(support, labels, query, 3)
    for q in range(4):
        cos = torch.stack([torch.nn.functional.cosine_similarity(query[q], s, dim=0) for s in support])
        attention = torch.softmax(2.0 * cos, dim=0)
        probs = torch.stack([attention[labels == j].sum() for j in range(3)])
        torch.testing.assert_close(logits[q].exp(), probs)
    torch.testing.assert_close(logits.exp().sum(1), torch.ones(4))


def test_fce_changes_the_embedding_and_depends_on_the_whole_support_set():
    method = MatchingNet(tiny_mlp(), IMAGE_SHAPE, 5, MatchingNet.Options(fce=True))
    method.eval()
    ep = synthetic_episode(way=3, shot=2, query=2)
    with torch.no_grad():
        s, q = method.embed(ep.support), method.embed(ep.query)
        with_fce = method.predict_from_features(s, ep.support_labels, q, 3)
        method.options.fce = False
        without = method.predict_from_features(s, ep.support_labels, q, 3)
        method.options.fce = True
        # g is a BiLSTM over the support set: changing one support image changes the others' embeddings
        g_all = method.support_embedding(s)
        s2 = s.clone()
        s2[-1] += 1.0
        g_changed = method.support_embedding(s2)
    assert not torch.allclose(with_fce, without)
    assert not torch.allclose(g_all[0], g_changed[0])
