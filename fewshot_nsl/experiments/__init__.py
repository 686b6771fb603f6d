"""Whole experiments composed of training and evaluation: the leaderboard, its rows and budgets, and
:func:`~.train_run.train` (the trainer validating with the evaluator)."""
