"""Errors with a machine-readable code, so a user interface can translate them."""

from __future__ import annotations


class SettingsError(ValueError):
    """Settings that cannot work.

    ``str(err)`` is an English explanation (logs, tests); ``code`` names the rule that was
    broken and ``params`` holds the values the explanation quotes, as strings, so the
    Home Assistant layer can show the same explanation from its translation files.
    """

    def __init__(self, code: str, message: str, **params: str) -> None:
        """Keep the code and the quoted values with the English message."""
        super().__init__(message)
        self.code = code
        self.params = params
