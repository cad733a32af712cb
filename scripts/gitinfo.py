"""The git state a run is tagged with."""

import subprocess
from dataclasses import dataclass

from scripts.project import ROOT


@dataclass(frozen=True)
class GitState:
    commit: str
    branch: str
    dirty: bool

    def record(self) -> dict[str, str | bool]:
        """For run.json: the state, and `git diff --shortstat HEAD` when dirty."""
        diff_stat = ""
        if self.dirty:
            diff = ["git", "diff", "--shortstat", "HEAD"]
            diff_stat = subprocess.run(diff, cwd=ROOT, capture_output=True, text=True).stdout
        return {
            "commit": self.commit,
            "branch": self.branch,
            "dirty": self.dirty,
            "diff_stat": diff_stat.strip(),
        }


def git_state() -> GitState | None:
    """Commit, branch and dirtiness (untracked files included) from one `git status`;
    None outside a git repository or before the first commit."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    headers: dict[str, str] = {}
    dirty = False
    for line in result.stdout.splitlines():
        if line.startswith("# branch."):
            key, _, value = line[len("# branch.") :].partition(" ")
            headers[key] = value
        elif line and not line.startswith("#"):
            dirty = True
    commit = headers.get("oid", "(initial)")
    if commit == "(initial)":
        return None
    return GitState(commit=commit, branch=headers.get("head", "(detached)"), dirty=dirty)
