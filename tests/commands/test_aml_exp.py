"""`just aml --exp`: experiment commits with real git and a bare repository as origin, the
command in-process (the `cli` fixture) but for one dry run through `just`.

No test reaches Azure: tests/fake_azure.py stands in for the one object that talks to
Azure (MLClient), injected as `scripts.aml.ml_client`, and records what would have been
sent, including the git details azure-ai-ml's own code takes from the AZUREML_GIT_*
variables.
"""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from scripts import aml as aml_command
from scripts.cloud.experiment_commit import TRAILER
from scripts.project.git import strip_credentials
from tests.fake_azure import FakeClient, FakeJobs
from tests.helpers import REPOSITORY, Outcome, git_commit_all, run, run_folders, write

SETTINGS = """
AZUREML_SUBSCRIPTION_ID=00000000-0000-0000-0000-000000000000
AZUREML_RESOURCE_GROUP=rg
AZUREML_WORKSPACE=ws
"""


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo, check=True).stdout.strip()


def commit_file(repo: Path, name: str, text: str) -> None:
    write(repo / name, text)
    git_commit_all(repo, f"add {name}")


@pytest.fixture
def repo(workspace: Path, tmp_path: Path) -> Path:
    """The tiny workspace on a work branch `feature` one commit ahead of main, pushed to a
    bare origin, with a stash entry and settings in .env.local."""
    shutil.copy2(REPOSITORY / "justfile", workspace / "justfile")
    with (workspace / ".gitignore").open("a") as file:
        file.write("__pycache__/\n.env.local\n")
    write(workspace / ".env.local", SETTINGS)
    git_commit_all(workspace, "settings and justfile")
    origin = tmp_path / "origin.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], tmp_path, check=True)
    git(workspace, "remote", "add", "origin", str(origin))
    git(workspace, "push", "-q", "origin", "main")
    git(workspace, "switch", "-q", "-c", "feature")
    commit_file(workspace, "experiments/alpha/notes.md", "first idea\n")
    (workspace / "experiments" / "alpha" / "notes.md").write_text("half-written idea\n")
    git(workspace, "stash", "-q")
    return workspace


Aml = Callable[..., tuple[int, str, dict[str, Any] | None]]


@pytest.fixture
def aml(cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch) -> Aml:
    """`aml(repo, *args, raises=None)`: `just aml alpha ARGS` through the fake Azure (which
    raises `raises` if given): exit code, stderr, what was sent."""

    def call(
        repo: Path, *args: str, raises: BaseException | None = None
    ) -> tuple[int, str, dict[str, Any] | None]:
        jobs = FakeJobs(raises=raises)
        monkeypatch.setattr(aml_command, "ml_client", lambda workspace: FakeClient(jobs))
        outcome = cli(aml_command.main, repo, "alpha", *args)
        if not jobs.created:
            return outcome.code, outcome.err, None
        (job,) = jobs.created
        body = job._to_job()._to_rest_object().properties  # the REST body the SDK would send
        sent = {
            "name": job.name,
            "description": body.description,
            "tags": body.tags,
            "git_properties": jobs.git_properties[0],
        }
        return outcome.code, outcome.err, sent

    return call


def user_state(repo: Path) -> dict[str, str]:
    """What --exp must never change: current branch and commit, index, files, stash."""
    return {
        "branch": git(repo, "symbolic-ref", "HEAD"),
        "head": git(repo, "rev-parse", "HEAD"),
        "index": git(repo, "ls-files", "--stage"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "files": git(repo, "diff", "HEAD"),
        "stash": git(repo, "stash", "list", "--format=%H %s"),
    }


def tip(repo: Path, ref: str) -> str | None:
    result = run(["git", "rev-parse", "--verify", "--quiet", ref], repo)
    return result.stdout.strip() or None


def remote_tip(repo: Path, branch: str) -> str | None:
    line = git(repo, "ls-remote", "origin", f"refs/heads/{branch}")
    return line.split()[0] if line else None


def teammate_clone(repo: Path, tmp_path: Path) -> Path:
    other = tmp_path / "teammate"
    run(["git", "clone", "-q", git(repo, "remote", "get-url", "origin"), str(other)], tmp_path)
    return other


def advance_origin_main(repo: Path, tmp_path: Path) -> str:
    """A teammate pushes a commit to origin's main."""
    other = teammate_clone(repo, tmp_path)
    commit_file(other, "shared/CHANGELOG.md", "teammate's change\n")
    git(other, "push", "-q", "origin", "main")
    return git(other, "rev-parse", "HEAD")


def assert_refused(aml: Aml, repo: Path, message: str, *args: str) -> None:
    """`--exp` stops with `message`, leaving no run folder, commit on the branch or job."""
    before, folders = user_state(repo), run_folders(repo)

    code, stderr, sent = aml(repo, "--exp", "refused", *args)

    assert (code, stderr.strip()) == (2, f"error: {message}")
    assert sent is None and tip(repo, "refs/heads/experiments") is None
    assert user_state(repo) == before and run_folders(repo) == folders


def test_exp_records_head_on_the_branch_and_pushes_it_after_submission(
    repo: Path, aml: Aml
) -> None:
    before = user_state(repo)
    main = git(repo, "rev-parse", "main")

    code, stderr, sent = aml(repo, "--exp", "try idna")

    assert code == 0, stderr
    commit = tip(repo, "refs/heads/experiments")
    assert commit and remote_tip(repo, "experiments") == commit
    assert git(repo, "rev-parse", f"{commit}^{{tree}}") == git(repo, "rev-parse", "HEAD^{tree}")
    assert git(repo, "log", "-1", "--format=%s %P", commit) == f"try idna {main}"
    assert git(repo, "log", "-1", "--format=%(trailers:key=Recorded-by,valueonly)", commit) == (
        "just aml --exp"
    )
    assert f"experiments: {commit} pushed to origin" in stderr
    assert sent is not None
    assert sent["description"] == "try idna"
    assert sent["tags"]["git_commit"] == commit and sent["tags"]["git_branch"] == "experiments"
    assert sent["git_properties"] == {
        "mlflow.source.git.repoURL": git(repo, "remote", "get-url", "origin"),
        "mlflow.source.git.branch": "experiments",
        "mlflow.source.git.commit": commit,
        "azureml.git.dirty": "False",
    }
    assert user_state(repo) == before

    code, stderr, _ = aml(repo, "--exp", "second try")

    assert code == 0, stderr
    second = git(repo, "rev-parse", "refs/heads/experiments")
    assert git(repo, "log", "-1", "--format=%s %P", second) == f"second try {commit}"
    assert remote_tip(repo, "experiments") == second
    assert user_state(repo) == before


def test_exp_resyncs_the_branch_with_main_when_main_moved(
    repo: Path, tmp_path: Path, aml: Aml
) -> None:
    assert aml(repo, "--exp", "before")[0] == 0
    first = tip(repo, "refs/heads/experiments")
    new_main = advance_origin_main(repo, tmp_path)
    git(repo, "pull", "-q", "--rebase", "origin", "main")

    code, stderr, _ = aml(repo, "--exp", "after")

    assert code == 0, stderr
    commit = git(repo, "rev-parse", "refs/heads/experiments")
    sync = git(repo, "rev-parse", f"{commit}^")
    assert git(repo, "rev-parse", f"{commit}^{{tree}}") == git(repo, "rev-parse", "HEAD^{tree}")
    assert git(repo, "log", "-1", "--format=%P", sync) == f"{first} {new_main}"
    assert git(repo, "rev-parse", f"{sync}^{{tree}}") == git(
        repo, "rev-parse", f"{new_main}^{{tree}}"
    )
    assert git(repo, "diff", "--name-only", sync, commit) == "experiments/alpha/notes.md"


def test_exp_builds_on_a_teammates_newer_experiments(repo: Path, tmp_path: Path, aml: Aml) -> None:
    assert aml(repo, "--exp", "mine first")[0] == 0
    other = teammate_clone(repo, tmp_path)
    git(other, "switch", "-q", "experiments")
    git(other, "commit", "-q", "--allow-empty", "-m", "teammate's experiment", "-m", TRAILER)
    git(other, "push", "-q", "origin", "experiments")
    theirs = git(other, "rev-parse", "HEAD")

    code, stderr, _ = aml(repo, "--exp", "mine again")

    assert code == 0, stderr
    commit = git(repo, "rev-parse", "refs/heads/experiments")
    assert git(repo, "log", "-1", "--format=%P", commit) == theirs
    assert remote_tip(repo, "experiments") == commit


@pytest.mark.parametrize(
    "change",
    ["edit a tracked file", "stage a change", "add an untracked file"],
)
def test_exp_refuses_a_dirty_working_tree(repo: Path, change: str, aml: Aml) -> None:
    notes = repo / "experiments" / "alpha" / "notes.md"
    if change == "add an untracked file":
        write(repo / "experiments" / "alpha" / "scratch.py", "x = 1\n")
    else:
        notes.write_text("uncommitted\n")
        if change == "stage a change":
            git(repo, "add", str(notes))

    assert_refused(
        aml,
        repo,
        "--exp records HEAD, but the working tree has changes: commit or stash them first "
        "(git status)",
    )


def test_exp_refuses_a_branch_behind_origin_main(repo: Path, tmp_path: Path, aml: Aml) -> None:
    advance_origin_main(repo, tmp_path)

    assert_refused(
        aml,
        repo,
        "feature is behind origin/main: bring it up to date first (git pull --rebase origin main)",
    )


def test_a_rejected_push_keeps_the_commit_locally_and_says_so(repo: Path, aml: Aml) -> None:
    hook = Path(git(repo, "remote", "get-url", "origin")) / "hooks" / "pre-receive"
    write(hook, "#!/bin/sh\necho 'experiments are frozen' >&2\nexit 1\n").chmod(0o755)
    before = user_state(repo)

    code, stderr, sent = aml(repo, "--exp", "rejected")

    assert code == 1
    commit = tip(repo, "refs/heads/experiments")
    assert sent is not None and sent["tags"]["git_commit"] == commit  # submitted
    assert commit and remote_tip(repo, "experiments") is None
    assert (
        stderr.strip()
        .splitlines()[-1]
        .startswith("error: the job was submitted, but pushing experiments to origin failed (")
    )
    assert f"{commit[:12]} stays on your local experiments" in stderr
    assert user_state(repo) == before


def workspace_not_found() -> HttpResponseError:
    error = HttpResponseError(message="Workspace not found")
    error.status_code = 404
    return error


@pytest.mark.parametrize(
    ("raises", "code"), [(workspace_not_found(), 1), (KeyboardInterrupt(), 130)]
)
def test_a_failed_or_interrupted_submission_leaves_the_branch_where_it_was(
    repo: Path, raises: BaseException, code: int, aml: Aml
) -> None:
    assert aml(repo, "--exp", "kept")[0] == 0
    previous = tip(repo, "refs/heads/experiments")
    before, folders = user_state(repo), run_folders(repo)

    result, _, sent = aml(repo, "--exp", "lost", raises=raises)

    assert result == code and sent is None
    assert tip(repo, "refs/heads/experiments") == previous
    assert remote_tip(repo, "experiments") == previous
    assert user_state(repo) == before
    (folder,) = run_folders(repo) - folders  # kept for inspection
    assert folder.is_dir()


@pytest.mark.slow
def test_dry_run_through_just_creates_the_commit_and_pushes_nothing(repo: Path) -> None:
    result = run(["just", "aml", "alpha", "--dry-run", "--exp", "just looking"], repo)

    assert result.returncode == 0, result.stderr
    commit = tip(repo, "refs/heads/experiments")
    assert commit and f"experiments: {commit} (dry run: not pushed)" in result.stderr
    assert remote_tip(repo, "experiments") is None
    assert "description: just looking" in result.stdout
    assert f"git_commit: {commit}" in result.stdout


def test_exp_needs_a_reachable_origin(repo: Path, tmp_path: Path, aml: Aml) -> None:
    git(repo, "remote", "set-url", "origin", str(tmp_path / "gone.git"))

    code, stderr, _ = aml(repo, "--exp", "offline")

    assert code == 1
    assert stderr.strip().startswith("error: cannot fetch from origin (")
    assert stderr.strip().endswith("check the network and your git credentials")
    git(repo, "remote", "remove", "origin")

    code, stderr, _ = aml(repo, "--exp", "no remote")

    assert code == 2
    assert (
        stderr.strip() == "error: --exp pushes to a remote named origin: git remote add origin URL"
    )
    assert tip(repo, "refs/heads/experiments") is None


def test_exp_needs_a_message_a_work_branch_and_a_main_to_compare_with(
    repo: Path, tmp_path: Path, aml: Aml
) -> None:
    code, stderr, _ = aml(repo, "--exp", " ")
    assert (code, stderr.strip()) == (
        2,
        'error: --exp needs a message describing the experiment: --exp "MESSAGE"',
    )

    git(repo, "switch", "-q", "-c", "experiments")
    code, stderr, _ = aml(repo, "--exp", "on it")
    assert (code, stderr.strip()) == (
        2,
        "error: --exp writes to experiments, the branch you are on: switch to your work",
    )
    git(repo, "switch", "-q", "feature")
    git(repo, "branch", "-q", "-D", "experiments")

    empty = tmp_path / "empty.git"
    run(["git", "init", "-q", "--bare", str(empty)], tmp_path, check=True)
    git(repo, "remote", "set-url", "origin", str(empty))
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")
    assert_refused(aml, repo, "origin has no main branch to compare with: push main first")


def test_an_invalid_job_moves_no_branch(repo: Path, aml: Aml) -> None:
    assert_refused(
        aml,
        repo,
        "compute is still a placeholder (azureml:<cluster>): set it in azure-ml-job.yaml or "
        "with --set compute=...",
        "--set",
        "compute=azureml:<cluster>",
    )


def test_exp_needs_a_git_repository(repo: Path, aml: Aml) -> None:
    shutil.rmtree(repo / ".git")

    code, stderr, sent = aml(repo, "--exp", "no history")

    assert (code, stderr.strip()) == (
        2,
        "error: --exp needs a git repository with at least one commit",
    )
    assert sent is None


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://user:token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://token@dev.azure.com/org/_git/repo", "https://dev.azure.com/org/_git/repo"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://x:ab/cd+ef@github.com/org/repo.git", "https://github.com/org/repo.git"),
        (
            "fatal: could not read https://host/org/repo.git?access_token=s3cr3t&x=1: denied",
            "fatal: could not read https://host/org/repo.git?access_token=***&x=1: denied",
        ),
        (
            "https://a.blob.core.windows.net/c?sv=1&SIG=abc%2F",
            "https://a.blob.core.windows.net/c?sv=1&SIG=***",
        ),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
    ],
)
def test_credentials_in_the_remote_url_never_reach_azure(url: str, public: str) -> None:
    assert strip_credentials(url) == public


def test_experiments_branch_comes_from_the_settings(repo: Path, aml: Aml) -> None:
    with (repo / ".env.local").open("a") as file:
        file.write("EXPERIMENTS_BRANCH=exp/alice\n")

    code, stderr, sent = aml(repo, "--exp", "mine")

    assert code == 0, stderr
    assert sent is not None and sent["git_properties"]["mlflow.source.git.branch"] == "exp/alice"
    assert remote_tip(repo, "exp/alice") == tip(repo, "refs/heads/exp/alice")

    (repo / ".env.local").write_text(SETTINGS + "EXPERIMENTS_BRANCH=no..dots\n")
    assert_refused(
        aml, repo, "EXPERIMENTS_BRANCH=no..dots is not a valid branch name: fix .env.local"
    )


def test_exp_never_writes_to_main_or_a_branch_it_did_not_make(repo: Path, aml: Aml) -> None:
    git(repo, "branch", "-q", "shared-work", "feature")  # someone's work, not --exp's
    git(repo, "push", "-q", "origin", "shared-work")
    settings = repo / ".env.local"

    settings.write_text(SETTINGS + "EXPERIMENTS_BRANCH=main\n")
    assert_refused(
        aml,
        repo,
        "EXPERIMENTS_BRANCH=main is origin's main branch: --exp writes only to a branch of its "
        "own; set another in .env.local",
    )
    settings.write_text(SETTINGS + "EXPERIMENTS_BRANCH=shared-work\n")
    before = (tip(repo, "refs/heads/shared-work"), remote_tip(repo, "shared-work"))
    code, stderr, sent = aml(repo, "--exp", "refused")
    assert (code, stderr.strip(), sent) == (
        2,
        "error: shared-work holds commits that `just aml --exp` did not make: it writes only to "
        "a branch of its own; set another EXPERIMENTS_BRANCH in .env.local",
        None,
    )
    assert (tip(repo, "refs/heads/shared-work"), remote_tip(repo, "shared-work")) == before
