"""User-facing errors.

Anything a user can cause (a bad file, a bad setting, a missing class) raises :class:`FewShotError`
with a one-line message that names the culprit. The CLI turns it into exit status 2 and that one line,
never a traceback.
"""


class FewShotError(Exception):
    """An error caused by the user's input or settings; its message is shown as one line."""


class DataError(FewShotError):
    """A dataset file, folder or split is missing, unreadable or malformed."""


class ConfigError(FewShotError):
    """A setting is unknown, of the wrong type or out of range."""


class CheckpointError(FewShotError):
    """A checkpoint or run directory cannot be used."""
