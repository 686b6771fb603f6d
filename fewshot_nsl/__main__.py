"""``python -m fewshot_nsl ...`` (also what ``torchrun -m fewshot_nsl`` runs)."""

from .cli.main import entry

entry()
