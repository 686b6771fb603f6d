"""The bottom layer: user-facing errors, the registry type, atomic file writes and confidence intervals.

Nothing here imports any other folder of the package.
"""
