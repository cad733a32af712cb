"""The two ways a command fails on purpose; `scripts.cli` turns them into one-line errors."""


class UsageError(Exception):
    """Something the user asked for cannot be done as asked; exit code 2."""


class CommandError(Exception):
    """A step failed for a reason outside the user's arguments; exit code 1."""
