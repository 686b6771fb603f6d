"""Split files in the Ravi & Larochelle format: a CSV with columns ``filename,label`` (one row per image)."""

from __future__ import annotations

import csv
from pathlib import Path

from ..core.errors import DataError


def read_split_csv(path: Path) -> tuple[list[str], list[str]]:
    """(filenames, labels) of the rows of ``path``, in file order.

    Raises:
        DataError: the file is missing or unreadable, lacks a ``filename`` or ``label`` column, has an empty
            cell, or has no rows.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            for needed in ("filename", "label"):
                if needed not in columns:
                    raise DataError(f"split file {path} has no {needed!r} column (columns: {columns})")
            reader.fieldnames = columns
            filenames, labels = [], []
            for row_no, row in enumerate(reader, start=2):
                name, label = (row.get("filename") or "").strip(), (row.get("label") or "").strip()
                if not name or not label:
                    raise DataError(f"split file {path} line {row_no}: empty filename or label")
                filenames.append(name)
                labels.append(label)
    except FileNotFoundError:
        raise DataError(f"split file {path} is missing") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"split file {path} is unreadable ({exc})") from None
    if not filenames:
        raise DataError(f"split file {path} lists no images")
    return filenames, labels
