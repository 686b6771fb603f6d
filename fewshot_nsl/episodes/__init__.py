"""Episodes: the seeded sampler, fixed evaluation-episode files, and tensor batches for training."""

from .sampler import Episode, EpisodeSampler, episode_rng

__all__ = ["Episode", "EpisodeSampler", "episode_rng"]
