"""Every failure a user or their machine can cause, as one hierarchy.

`scripts.console.cli.run_cli` prints a ToolingError's message as one line and exits with
its `exit_code`; an OSError becomes one through `from_os_error`.
"""

import errno


class ToolingError(Exception):
    """A failure whose message names the problem and what to do about it; exit code 1."""

    exit_code = 1


class UsageError(ToolingError):
    """Something the user asked for cannot be done as asked; exit code 2."""

    exit_code = 2


class CommandError(ToolingError):
    """A step (uv, git, Azure ML) failed for a reason outside the user's arguments."""


class StoreError(ToolingError):
    """An MLflow store cannot be read or written."""


_FREE_SPACE = "free some space (run folders and runs/.venvs/ are safe to delete), then retry"
_WHAT_TO_DO = {
    errno.ENOSPC: _FREE_SPACE,
    errno.EDQUOT: _FREE_SPACE,
    errno.ENAMETOOLONG: "use a shorter name",
    errno.ELOOP: "a symbolic link leads back to itself: fix or remove it",
    errno.ENOENT: "check that it exists (or is not a broken symbolic link)",
    errno.EACCES: "check its permissions",
    errno.EPERM: "check its permissions",
    errno.EROFS: "the file system is read-only: work in a writable copy",
    errno.EPIPE: "the output was closed early (e.g. piped into `head`); nothing else failed",
}


def from_os_error(error: OSError) -> ToolingError:
    """The one-line error for what the operating system refused, naming the file."""
    what = error.strerror or type(error).__name__
    files = [str(name) for name in (error.filename, error.filename2) if name is not None]
    where = f": {' -> '.join(files)}" if files else ""
    advice = _WHAT_TO_DO.get(error.errno or 0)
    return ToolingError(f"{what}{where}" + (f": {advice}" if advice else ""))
