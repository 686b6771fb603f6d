"""``fewshot-nsl data check``: count classes and images per split and verify that every image decodes.

Unlike loading, which stops at the first bad file, the check decodes image by image and lists every problem.
Exit status 0 when clean, 1 when problems were found (2, as everywhere, for unusable arguments).
"""

from __future__ import annotations

import argparse
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from tqdm import tqdm

from ..core.errors import DataError

log = logging.getLogger(__name__)

#: problems listed per split in the report (all are counted)
MAX_LISTED = 200


def _check_images(plan: Any, workers: int, desc: str) -> list[dict[str, str | None]]:
    """Decode every image of ``plan``; one ``{"file", "problem"}`` per image that fails (the problem names the file)."""
    n = len(plan.index.names)
    chunk = 256

    def run(start: int) -> list[dict[str, str | None]]:
        bad = []
        for i in range(start, min(n, start + chunk)):
            try:
                plan.decode(i)
            except DataError as exc:
                bad.append({"file": plan.describe(i), "problem": str(exc)})
        return bad

    problems: list[dict[str, str | None]] = []
    with tqdm(total=n, desc=desc, unit="img", disable=None, leave=False) as bar, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        for start, bad in zip(range(0, n, chunk), pool.map(run, range(0, n, chunk))):
            problems += bad
            bar.update(min(chunk, n - start))
    return problems


def _check_split(spec: Any, root: Any, split: str, size: int, workers: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"classes": 0, "images": 0, "per_class_min": 0, "per_class_max": 0}
    try:
        plan = spec.source(root, split, size).open()
    except DataError as exc:
        problems: list[dict[str, str | None]] = [{"file": None, "problem": str(exc)}]
    else:
        counts = np.bincount(plan.index.labels, minlength=len(plan.index.class_names))
        entry.update(classes=len(plan.index.class_names), images=len(plan.index.names),
                     per_class_min=int(counts.min()), per_class_max=int(counts.max()))
        problems = _check_images(plan, workers, f"{spec.name}/{split}")
        empty = [plan.index.class_names[c] for c in np.flatnonzero(counts == 0)]
        problems += [{"file": None, "problem": f"class {c!r} has no images"} for c in empty]
    entry["problem_count"] = len(problems)
    entry["problems"] = problems[:MAX_LISTED]
    return entry


def run_data_check(
    dataset: str,
    data_root: str | None,
    splits: list[str] | None = None,
    image_size: int | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Check one dataset and return the report.

    Args:
        dataset: registry name.
        data_root: its folder (default ``$FEWSHOT_NSL_DATA/<dataset>``).
        splits: splits to check (default: the splits present under the root).
        image_size: decode size (default: the dataset's own).

    Returns:
        ``{"dataset", "root", "image_size", "ok", "problems": total, "splits": {split: {"classes", "images",
        "per_class_min", "per_class_max", "problem_count", "problems": [{"file", "problem"}, ...]}}}``;
        at most :data:`MAX_LISTED` problems are listed per split.

    Raises:
        FewShotError: unknown dataset or missing root.
    """
    from ..data import DATASETS
    from ..data.decode import default_workers
    from ..data.roots import resolve_root

    spec = DATASETS.get(dataset)
    root = resolve_root(dataset, data_root) if spec.needs_root else None
    size = int(image_size or spec.default_image_size)
    if not splits:
        found = spec.find_splits(root) if spec.find_splits is not None else ()
        splits = list(found or spec.splits)
    report: dict[str, Any] = {"dataset": dataset, "root": str(root) if root else None, "image_size": size,
                              "splits": {}}
    for split in splits:
        report["splits"][split] = _check_split(spec, root, split, size, workers or default_workers())
        log.info("%s/%s: %d problems", dataset, split, report["splits"][split]["problem_count"])
    report["problems"] = sum(s["problem_count"] for s in report["splits"].values())
    report["ok"] = report["problems"] == 0
    return report


def format_report(report: dict[str, Any], listed: int = 20) -> str:
    """The report as human-readable lines."""
    lines = [f"{report['dataset']} at {report['root'] or '(generated)'} ({report['image_size']}px)"]
    for split, s in report["splits"].items():
        per = (f"{s['per_class_min']} per class" if s["per_class_min"] == s["per_class_max"]
               else f"{s['per_class_min']}-{s['per_class_max']} per class")
        status = "ok" if s["problem_count"] == 0 else f"{s['problem_count']} problem(s)"
        lines.append(f"  {split}: {s['classes']} classes, {s['images']} images ({per}): {status}")
        for p in s["problems"][:listed]:
            lines.append(f"    {p['problem']}")
        if s["problem_count"] > listed:
            lines.append(f"    ... and {s['problem_count'] - listed} more")
    lines.append("clean" if report["ok"] else f"problems: {report['problems']}")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    """Print the report; 0 when clean, 1 when problems were found."""
    report = run_data_check(args.dataset, args.data_root, args.split, args.image_size, args.workers)
    print(format_report(report))
    if args.json:
        print(json.dumps(report))
    return 0 if report["ok"] else 1


def add_parser(subparsers: Any) -> None:
    """Register ``data check --dataset D [--data-root DIR] [--split S ...] [--image-size N] [--json]``."""
    data = subparsers.add_parser("data", help="inspect datasets")
    sub = data.add_subparsers(dest="data_command", metavar="ACTION", parser_class=type(data))
    sub.required = True
    check = sub.add_parser("check", help="count classes/images per split and verify every image decodes")
    check.add_argument("--dataset", required=True, help="mini-imagenet, omniglot, folder, synthetic")
    check.add_argument("--data-root", default=None, help="the dataset folder (default: $FEWSHOT_NSL_DATA/<dataset>)")
    check.add_argument("--split", action="append", default=None, help="split to check (repeatable; default: all)")
    check.add_argument("--image-size", type=int, default=None, help="decode size (default: the dataset's)")
    check.add_argument("--workers", type=int, default=None, help="decoding threads (default: CPU cores)")
    check.add_argument("--json", action="store_true", help="also print the report as one JSON object (last line)")
    check.set_defaults(func=handle)
