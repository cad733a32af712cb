"""Running git in the project, and the git state a run is tagged with."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scripts.console.errors import CommandError

# user:token@ in a URL (https://TOKEN@host/..., tokens may hold '/'); scp-like
# git@host:org/repo has no secret. And tokens passed as query parameters.
_USERINFO = re.compile(r"(\w+://)[^\s@]*?@")
_SECRET_PARAMETER = re.compile(
    r"([?&](?:access_token|private_token|token|sig|signature|password|secret)=)[^&#\s]+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class GitState:
    commit: str
    branch: str
    dirty: bool


@dataclass(frozen=True)
class Git:
    """git, run in the project's root."""

    root: Path

    def run(self, *args: str) -> str:
        """git's stripped stdout, or a CommandError carrying git's last line of complaint
        (credentials in a URL it quotes removed)."""
        result = self._run(args)
        if result is None or result.returncode != 0:
            stderr = result.stderr if result else "git is not installed"
            lines = stderr.strip().splitlines() or [f"git {args[0]} failed"]
            complaint = lines[-1].removeprefix("fatal: ").removeprefix("error: ")
            raise CommandError(strip_credentials(complaint))
        return result.stdout.strip()

    def try_run(self, *args: str) -> str | None:
        """git's stripped stdout; None if it failed or git is not installed."""
        result = self._run(args)
        return result.stdout.strip() if result and result.returncode == 0 else None

    def state(self) -> GitState | None:
        """Commit, branch and dirtiness (untracked files included) from one `git status`;
        None outside a git repository or before the first commit."""
        status = self.try_run("status", "--porcelain=v2", "--branch")
        if status is None:
            return None
        headers: dict[str, str] = {}
        dirty = False
        for line in status.splitlines():
            if line.startswith("# branch."):
                key, _, value = line[len("# branch.") :].partition(" ")
                headers[key] = value
            elif line and not line.startswith("#"):
                dirty = True
        commit = headers.get("oid", "(initial)")
        if commit == "(initial)":
            return None
        return GitState(commit=commit, branch=headers.get("head", "(detached)"), dirty=dirty)

    def record(self) -> dict[str, str | bool] | None:
        """For run.json: the state, and `git diff --shortstat HEAD` when dirty; None outside
        a git repository or before the first commit."""
        state = self.state()
        if state is None:
            return None
        diff_stat = (self.try_run("diff", "--shortstat", "HEAD") or "") if state.dirty else ""
        return {
            "commit": state.commit,
            "branch": state.branch,
            "dirty": state.dirty,
            "diff_stat": diff_stat,
        }

    def _run(self, args: tuple[str, ...]) -> subprocess.CompletedProcess[str] | None:
        try:
            return subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True)
        except OSError:
            return None


def strip_credentials(text: str) -> str:
    """`text` with the user and token taken out of any URL in it: they must not reach a
    log, an error message or Azure ML."""
    return _SECRET_PARAMETER.sub(r"\1***", _USERINFO.sub(r"\1", text))
