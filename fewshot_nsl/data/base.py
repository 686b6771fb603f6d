"""The in-memory form of one dataset split: every reader returns an :class:`ImageSet`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from ..core.errors import DataError


@dataclass
class ImageSet:
    """All images of one split of one dataset, decoded to uint8.

    Attributes:
        images: uint8 array of shape (N, H, W, C) (C = 3 for RGB, 1 for grey). May be a read-only
            ``np.memmap`` of the decoded cache; it is then re-mapped (not copied) in each worker process.
        labels: int64 array of shape (N,), class index in ``[0, len(class_names))``.
        class_names: name of each class (e.g. a WordNet id, or ``Alphabet/character01/rot090``).
        image_names: a unique, stable name per image (e.g. ``n0153282900000005.jpg``); episode files
            refer to images by these names.
        dataset: dataset name (``mini-imagenet``, ``omniglot``, ``folder``, ``synthetic``).
        split: split name (``train``, ``val``, ``test``, ...).
        mean, std: per-channel normalisation in 0-255 units, used by the transforms.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: List[str]
    image_names: List[str]
    dataset: str
    split: str
    mean: Sequence[float] = (127.5, 127.5, 127.5)
    std: Sequence[float] = (127.5, 127.5, 127.5)
    memmap_path: Optional[str] = None
    _by_class: Optional[List[np.ndarray]] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if self.images.ndim != 4:
            raise DataError(f"{self.dataset}/{self.split}: images must be (N, H, W, C), got {self.images.shape}")
        if len(self.images) != len(self.labels) or len(self.labels) != len(self.image_names):
            raise DataError(
                f"{self.dataset}/{self.split}: {len(self.images)} images, {len(self.labels)} labels and "
                f"{len(self.image_names)} names do not match"
            )
        if len(self.labels) == 0:
            raise DataError(f"{self.dataset}/{self.split}: the split holds no images")

    # -- views ---------------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple:
        """(C, H, W) of one image."""
        n, h, w, c = self.images.shape
        return (c, h, w)

    def indices_by_class(self) -> List[np.ndarray]:
        """For each class, the sorted indices of its images (computed once)."""
        if self._by_class is None:
            order = np.argsort(self.labels, kind="stable")
            counts = np.bincount(self.labels, minlength=self.num_classes)
            self._by_class = np.split(order, np.cumsum(counts)[:-1])
        return self._by_class

    # -- pickling: a memmap is re-opened, never copied, in DataLoader workers ------------------
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if self.memmap_path is not None:
            state["images"] = (self.images.shape, str(self.images.dtype))
        return state

    def __setstate__(self, state: dict) -> None:
        if state.get("memmap_path") is not None and isinstance(state["images"], tuple):
            shape, dtype = state["images"]
            if str(state["memmap_path"]).endswith(".npy"):  # a .npy file has a header: let numpy find the data
                state["images"] = np.load(state["memmap_path"], mmap_mode="r")
            else:
                state["images"] = np.memmap(state["memmap_path"], dtype=dtype, mode="r", shape=tuple(shape))
        self.__dict__.update(state)
