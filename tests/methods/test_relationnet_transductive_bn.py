"""RelationNet's ``method.transductive_bn`` against its definition: with it, evaluation normalises every BN with
the episode's own statistics (Sung et al.'s code), so a query's scores depend on the other queries; without it
(the default) they do not. Running statistics are never touched by an evaluation."""

from __future__ import annotations

import copy

import pytest
import torch
from method_helpers import IMAGE_SHAPE, synthetic_episode, tiny_cnn

from fewshot_nsl.methods.relationnet import RelationNet, RelationNetOptions
from fewshot_nsl.runtime.config import resolve_config


def trained_method(transductive: bool) -> RelationNet:
    """A RelationNet whose running BN statistics are far from any episode's (so the two modes differ)."""
    method = RelationNet(tiny_cnn(depth=2), IMAGE_SHAPE, 5, RelationNetOptions(transductive_bn=transductive))
    method.train()
    with torch.no_grad():
        for _ in range(3):
            ep = synthetic_episode(way=3, shot=2, query=3, seed=7)
            method.predict(3.0 * ep.support + 1.0, ep.support_labels, 3.0 * ep.query + 1.0, ep.way)
    return method.eval()


def first_query_scores(method: RelationNet, other_seed: int) -> torch.Tensor:
    """Scores of one fixed query, scored beside other queries drawn from ``other_seed``."""
    ep = synthetic_episode(way=3, shot=2, query=3, seed=0)
    others = synthetic_episode(way=3, shot=2, query=3, seed=other_seed).query[1:]
    with torch.no_grad():
        return method.predict(ep.support, ep.support_labels, torch.cat([ep.query[:1], others]), ep.way)[0]


def buffers(method: RelationNet) -> dict:
    return {k: v.clone() for k, v in method.state_dict().items()}


def test_default_a_query_does_not_depend_on_the_other_queries():
    method = trained_method(False)
    assert not method.features_depend_on_episode
    torch.testing.assert_close(first_query_scores(method, 1), first_query_scores(method, 2))


def test_transductive_a_query_depends_on_the_other_queries_and_buffers_stay():
    method = trained_method(True)
    assert method.features_depend_on_episode  # the evaluator scores it episode by episode
    before = buffers(method)
    a, b = first_query_scores(method, 1), first_query_scores(method, 2)
    assert (a - b).abs().max() > 1e-4
    after = buffers(method)
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert not method.training and all(not m.training for m in method.modules())


def test_transductive_scores_are_those_of_batch_statistics():
    """By definition: the scores of train-mode BN (batch statistics; RelationNet has no other train-only layer),
    from a copy so that no running statistics of the method move."""
    method = trained_method(True)
    ep = synthetic_episode(way=3, shot=2, query=4, seed=3)
    reference = copy.deepcopy(method).train()
    with torch.no_grad():
        expected = reference.predict(ep.support, ep.support_labels, ep.query, ep.way)
        got = method.predict(ep.support, ep.support_labels, ep.query, ep.way)
        default = trained_method(False).predict(ep.support, ep.support_labels, ep.query, ep.way)
    torch.testing.assert_close(got, expected)
    assert (got - default).abs().max() > 1e-4  # eval-mode BN with the running statistics differs


def test_training_is_unchanged_by_the_option():
    ep = synthetic_episode(way=3, shot=2, query=3, seed=5)
    losses = []
    for transductive in (False, True):
        method = RelationNet(tiny_cnn(depth=2), IMAGE_SHAPE, 5, RelationNetOptions(transductive_bn=transductive))
        losses.append(method.train().loss(ep)[0])
    assert torch.equal(losses[0], losses[1])


@pytest.mark.parametrize("value", [False, True])
def test_it_is_a_method_key_and_the_preset_keeps_it_off(value):
    assert resolve_config("relationnet").method_options().transductive_bn is False
    config = resolve_config("relationnet", overrides=[f"method.transductive_bn={str(value).lower()}"])
    assert config.method_options().transductive_bn is value
