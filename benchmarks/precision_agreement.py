"""Do two precisions give the same numbers? Paired per-episode comparison of two leaderboard folders.

Each row present in both folders (e.g. one trained and evaluated with ``--precision fp32``, the other with
``--precision bf16``) must have been scored on the identical fixed episodes (checked through the episode
fingerprint); the script prints, per row, both accuracies and the paired difference B - A with its 95% CI
(``mean ± 1.96·σ/√n`` of the per-episode differences, σ population std), in points:

    python benchmarks/precision_agreement.py ~/fewshot-runs/precision-check/mini-imagenet-fp32 \\
        ~/fewshot-runs/precision-check/mini-imagenet-bf16 [--json]

The training seed is the same in both folders, so the difference also contains the effect of the two trainings
drifting apart (different rounding changes every later step), not only the evaluation's rounding.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fewshot_nsl.core.errors import FewShotError
from fewshot_nsl.evaluation.result import compare_results, load_result


def row_results(folder: Path) -> dict:
    """``{row key: EvalResult}`` of every row folder of a leaderboard folder that holds a saved evaluation."""
    found = {}
    for result_file in sorted(folder.glob("*/eval/*.json")):
        found[result_file.parent.parent.name] = load_result(result_file)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="leaderboard folder of the reference precision")
    parser.add_argument("b", type=Path, help="leaderboard folder of the other precision")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    a, b = row_results(args.a), row_results(args.b)
    rows = []
    for key in sorted(set(a) & set(b)):
        delta, ci = compare_results(b[key], a[key], f"{args.b.name}/{key}", f"{args.a.name}/{key}")
        rows.append({"row": key, "dataset": a[key].protocol.get("dataset"), "split": a[key].protocol.get("split"),
                     "episodes": len(a[key].accuracies),
                     "precision_a": a[key].protocol.get("precision"), "accuracy_a": a[key].mean,
                     "ci95_a": a[key].ci95,
                     "precision_b": b[key].protocol.get("precision"), "accuracy_b": b[key].mean,
                     "ci95_b": b[key].ci95, "delta_b_minus_a": delta, "delta_ci95": ci})
        r = rows[-1]
        print(f"{key:14s} {r['dataset']}/{r['split']} {r['precision_a']}: {100 * r['accuracy_a']:.2f} ± "
              f"{100 * r['ci95_a']:.2f} %  {r['precision_b']}: {100 * r['accuracy_b']:.2f} ± {100 * r['ci95_b']:.2f} %"
              f"  paired {r['precision_b']} - {r['precision_a']}: {100 * delta:+.2f} ± {100 * ci:.2f} points")
    if args.json:
        print(json.dumps(rows))
    return 0 if rows else 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FewShotError as exc:
        print(f"precision_agreement: {exc}", file=sys.stderr)
        sys.exit(2)
