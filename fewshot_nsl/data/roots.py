"""Where a dataset's files live: an explicit ``--data-root`` or ``$FEWSHOT_NSL_DATA/<dataset>``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..core.errors import DataError
from .registry import DATASETS

log = logging.getLogger(__name__)

#: environment variable naming a folder that holds one sub-folder per dataset (``mini-imagenet/``, ``omniglot/``)
DATA_ENV = "FEWSHOT_NSL_DATA"
#: data shipped inside the package, one folder per dataset (``omniglot/``); used when nothing else is given
PACKAGED = Path(__file__).resolve().parent / "packaged"


def _holds_splits(dataset: str, root: Path) -> bool:
    """True when the reader of ``dataset`` finds at least one split directly in ``root``."""
    spec = DATASETS.get(dataset) if dataset in DATASETS else None
    if spec is None or spec.find_splits is None:
        return False
    try:
        return bool(spec.find_splits(root))
    except (OSError, DataError):
        return False


def resolve_root(dataset: str, data_root: str | None) -> Path:
    """The folder holding ``dataset``'s files.

    An explicit ``data_root`` wins; it must exist. When it holds no split of the dataset itself but has a
    ``<dataset>/`` sub-folder (e.g. ``--data-root ../shared/data``), that sub-folder is used.
    Without ``data_root``: ``$FEWSHOT_NSL_DATA/<dataset>`` when that folder exists, else the copy shipped in
    the package (``packaged/<dataset>``: Omniglot) when there is one.

    Raises:
        DataError: ``data_root`` does not exist, or no root was given and ``$FEWSHOT_NSL_DATA`` names
            no folder holding ``<dataset>/``.
    """
    spec = DATASETS.get(dataset) if dataset in DATASETS else None
    folder = (spec.folder if spec is not None else None) or dataset  # the folder the files live in
    if data_root is not None and str(data_root) != "":
        root = Path(data_root).expanduser()
        if not root.exists():
            raise DataError(f"data root {str(root)!r} does not exist (--data-root / data.data_root)")
        if (root / folder).is_dir() and not _holds_splits(dataset, root):
            return root / folder
        return root
    env = os.environ.get(DATA_ENV)
    if env:
        candidate = Path(env).expanduser() / folder
        if candidate.is_dir():
            return candidate
    if (PACKAGED / dataset).is_dir():
        log.info("no data root for %s: reading the copy shipped in the package (%s)", dataset, PACKAGED / dataset)
        return PACKAGED / dataset
    if env:
        raise DataError(
            f"no data root for {dataset!r}: ${DATA_ENV}={env} holds no {folder}/ folder; pass --data-root DIR "
            f"(data.data_root) or point ${DATA_ENV} at a folder holding {folder}/"
        )
    raise DataError(
        f"no data root for {dataset!r}: pass --data-root DIR (data.data_root) or set ${DATA_ENV} to a folder "
        f"holding {folder}/"
    )
