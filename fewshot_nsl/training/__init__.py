"""Training: the loop (:mod:`.trainer`), its stream, optimiser, checkpoint state, RNG snapshots and signals.

It does not import :mod:`fewshot_nsl.evaluation`: validation is scored by a :class:`~.validation.Validator` the
caller passes (:func:`fewshot_nsl.experiments.train_run.train` joins the two).
"""
