"""Whole experiments composed of training and evaluation: the leaderboard, its rows and budgets."""
