"""`just aml --exp MESSAGE`: one commit per submitted experiment on EXPERIMENTS_BRANCH.

The commit's tree is exactly HEAD's tree and its message is MESSAGE; its parent is the
branch's previous tip, first re-synced with origin's main (a merge commit carrying main's
tree) when main has moved on, so `git show` of an experiment lists its changes since main.
Only plumbing is used (fetch, commit-tree, update-ref, push): nothing is checked out, so the
working tree, index, current branch and stash are never touched, whatever fails.
"""

from dataclasses import dataclass

from scripts.console.errors import CommandError, UsageError
from scripts.project.git import Git, GitState, strip_credentials

DEFAULT_BRANCH = "experiments"
REMOTE = "origin"
# Ends every commit --exp makes: a branch holding any commit without it is not its own.
TRAILER = "Recorded-by: just aml --exp"


@dataclass(frozen=True)
class ExperimentCommit:
    git: Git  # the repository it was made in
    branch: str
    commit: str
    previous: str | None  # the local branch's tip before; None if it did not exist
    repository_uri: str

    def git_state(self) -> GitState:
        return GitState(commit=self.commit, branch=self.branch, dirty=False)

    def azureml_git_variables(self) -> dict[str, str]:
        """Where azure-ai-ml takes the git details it records with a job from."""
        return {
            "AZUREML_GIT_COMMIT": self.commit,
            "AZUREML_GIT_BRANCH": self.branch,
            "AZUREML_GIT_DIRTY": "false",
            "AZUREML_GIT_REPOSITORY_URI": self.repository_uri,
        }


def experiments_branch(git: Git, settings: dict[str, str]) -> str:
    branch = settings.get("EXPERIMENTS_BRANCH") or DEFAULT_BRANCH
    if git.try_run("check-ref-format", "--branch", branch) is None:
        raise UsageError(f"EXPERIMENTS_BRANCH={branch} is not a valid branch name: fix .env.local")
    return branch


def prepare(git: Git, message: str, branch: str) -> ExperimentCommit:
    """Check that HEAD can be recorded, fetch origin and write the commit object. No ref
    moves: `record` does that once the job is known to be valid."""
    if not message.strip():
        raise UsageError('--exp needs a message describing the experiment: --exp "MESSAGE"')
    head = _clean_head(git, branch)
    url = git.try_run("remote", "get-url", REMOTE)
    if url is None:
        raise UsageError(f"--exp pushes to a remote named {REMOTE}: git remote add {REMOTE} URL")
    _fetch(git)
    main = _remote_main(git)
    if not _is_ancestor(git, main, "HEAD"):
        raise UsageError(
            f"{head.branch} is behind {main}: bring it up to date first "
            f"(git pull --rebase {REMOTE} {main.removeprefix(REMOTE + '/')})"
        )
    if branch == main.removeprefix(f"{REMOTE}/"):
        raise UsageError(
            f"EXPERIMENTS_BRANCH={branch} is {REMOTE}'s main branch: --exp writes only to a "
            "branch of its own; set another in .env.local"
        )
    previous = _commit_of(git, f"refs/heads/{branch}")
    remote = _commit_of(git, f"refs/remotes/{REMOTE}/{branch}")
    for tip_of_branch in {previous, remote} - {None}:
        _check_only_experiments(git, str(tip_of_branch), main, branch)
    parent = _synced(git, _newest(git, previous, remote), main, branch)
    commit = git.run("commit-tree", "HEAD^{tree}", "-p", parent, "-m", message, "-m", TRAILER)
    return ExperimentCommit(git, branch, commit, previous, strip_credentials(url))


def record(experiment: ExperimentCommit) -> None:
    """Move the local branch to the commit, only if nobody moved it meanwhile."""
    ref = f"refs/heads/{experiment.branch}"
    moved = experiment.git.try_run("update-ref", ref, experiment.commit, experiment.previous or "")
    if moved is None:
        raise CommandError(f"{experiment.branch} changed during this submission: run it again")


def undo(experiment: ExperimentCommit) -> None:
    """Put the local branch back where it was (the submission did not happen)."""
    ref = f"refs/heads/{experiment.branch}"
    if experiment.previous:
        experiment.git.try_run("update-ref", ref, experiment.previous, experiment.commit)
    else:
        experiment.git.try_run("update-ref", "-d", ref, experiment.commit)


def push(experiment: ExperimentCommit) -> None:
    branch = experiment.branch
    try:
        experiment.git.run("push", "--quiet", REMOTE, f"refs/heads/{branch}:refs/heads/{branch}")
    except CommandError as error:
        raise CommandError(
            f"the job was submitted, but pushing {branch} to {REMOTE} failed ({error}): "
            f"{experiment.commit[:12]} stays on your local {branch}; push it once that is "
            f"fixed (git push {REMOTE} {branch})"
        ) from None


def _clean_head(git: Git, branch: str) -> GitState:
    head = git.state()
    if head is None:
        raise UsageError("--exp needs a git repository with at least one commit")
    if head.dirty:
        raise UsageError(
            "--exp records HEAD, but the working tree has changes: commit or stash them "
            "first (git status)"
        )
    if head.branch == branch:
        raise UsageError(f"--exp writes to {branch}, the branch you are on: switch to your work")
    return head


def _fetch(git: Git) -> None:
    try:
        git.run("fetch", "--quiet", REMOTE)
    except CommandError as error:
        raise CommandError(
            f"cannot fetch from {REMOTE} ({error}): check the network and your git credentials"
        ) from None


def _remote_main(git: Git) -> str:
    """origin's default branch as the last clone or `git remote set-head` saw it, else main."""
    default = git.try_run("symbolic-ref", "--short", f"refs/remotes/{REMOTE}/HEAD")
    main = default or f"{REMOTE}/main"
    if _commit_of(git, f"refs/remotes/{main}") is None:
        raise UsageError(f"{REMOTE} has no main branch to compare with: push main first")
    return main


def _newest(git: Git, local: str | None, remote: str | None) -> str | None:
    """The branch tip to build on: whichever of local and origin's contains the other (the
    local one if they diverged: the push will then say so, after the submission)."""
    if local is None or (remote is not None and _is_ancestor(git, local, remote)):
        return remote
    return local


def _synced(git: Git, tip: str | None, main: str, branch: str) -> str:
    """The parent for the next experiment commit: the tip, merged with main if main moved."""
    if tip is None or _is_ancestor(git, tip, main):
        return main
    if _is_ancestor(git, main, tip):
        return tip
    sync = f"Sync {branch} with {main}"
    return git.run(
        "commit-tree", f"{main}^{{tree}}", "-p", tip, "-p", main, "-m", sync, "-m", TRAILER
    )


def _check_only_experiments(git: Git, tip: str, main: str, branch: str) -> None:
    """A UsageError if the branch holds commits (beyond main's) that --exp did not make:
    it would be rewritten and pushed over someone's work."""
    commits = git.run("rev-list", "--count", f"{main}..{tip}")
    ours = git.run("rev-list", "--count", "--fixed-strings", f"--grep={TRAILER}", f"{main}..{tip}")
    if commits != ours:
        raise UsageError(
            f"{branch} holds commits that `just aml --exp` did not make: it writes only to a "
            "branch of its own; set another EXPERIMENTS_BRANCH in .env.local"
        )


def _commit_of(git: Git, ref: str) -> str | None:
    return git.try_run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def _is_ancestor(git: Git, ancestor: str, descendant: str) -> bool:
    return git.try_run("merge-base", "--is-ancestor", ancestor, descendant) is not None
