"""The fingerprint of a list of episodes: which tasks an evaluation saw, independent of how they were stored."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from .labelled_split import LabelledSplit
from .sampler import Episode


def episodes_fingerprint(imageset: LabelledSplit, episodes: Sequence[Episode]) -> str:
    """sha256 of the episodes' image *names* in order: equal exactly when two evaluations saw the same tasks."""
    digest = hashlib.sha256()
    names = imageset.image_names
    for e in episodes:
        digest.update(f"{e.way},{e.shot},{e.n_query};".encode())
        digest.update("\n".join(names[i] for i in np.concatenate([e.support, e.query])).encode())
        digest.update(b"\x00")
    return digest.hexdigest()
