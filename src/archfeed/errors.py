"""Error kinds and exit codes.

Owns: ArchfeedError (a message and a hint for the user) and the exit codes of docs/design.md
("Exit codes"). Never prints: only cli/__init__.py turns an error into output and an exit status.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # nothing done, e.g. database locked past the timeout
    USAGE = 2  # usage or config error
    PARTIAL = 3  # some sources failed, the rest were stored
    INTERRUPTED = 130


class ArchfeedError(Exception):
    """An error the user can act on: printed as `archfeed: error: …` plus an optional hint."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(ArchfeedError):
    exit_code = ExitCode.USAGE


class UsageError(ArchfeedError):
    exit_code = ExitCode.USAGE


class StoreError(ArchfeedError):
    exit_code = ExitCode.ERROR


class OfflineError(ArchfeedError):
    """Every source due failed at the network: the machine is offline, no source is to blame."""


class FeedError(ArchfeedError):
    """One source's document could not be read as a feed: reported for that source alone."""
