"""Run plumbing shared by training and evaluation: the typed config, the run directory, checkpoints, device,
distributed set-up and model placement."""
