"""`just aml` with a fake standing in for the one object that talks to Azure (MLClient).

Run as `python tests/fake_azure.py EXP ARGS...` from a project's root: everything is the
real command (settings, git, isolation, the SDK's job) except `scripts.aml.ml_client`.
FAKE_AZURE_RECORD names a JSON file that receives what would have been sent;
FAKE_AZURE=fail or interrupt makes the submission fail or be interrupted (Ctrl-C).
"""

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from azure.ai.ml.operations._job_ops_helper import get_git_properties
from azure.core.exceptions import HttpResponseError

sys.path.insert(0, os.getcwd())  # the project's scripts, not this repository's
from scripts import aml


class FakeJobs:
    def create_or_update(self, job: Any) -> Any:
        mode = os.environ.get("FAKE_AZURE", "ok")
        if mode == "interrupt":
            raise KeyboardInterrupt
        if mode == "fail":
            error = HttpResponseError(message="Workspace not found")
            error.status_code = 404
            raise error
        body = job._to_job()._to_rest_object().properties  # the REST body the SDK would send
        record = {
            "name": job.name,
            "description": body.description,
            "tags": body.tags,
            # What azure-ai-ml adds to the job's properties when it submits (its own code).
            "git_properties": get_git_properties(),
        }
        Path(os.environ["FAKE_AZURE_RECORD"]).write_text(json.dumps(record))
        return SimpleNamespace(name=job.name, studio_url=f"https://ml.azure.com/runs/{job.name}")


def fake_client(workspace: aml.Workspace) -> Any:
    return SimpleNamespace(jobs=FakeJobs())


if __name__ == "__main__":
    aml.ml_client = fake_client  # type: ignore[assignment]
    aml.run_cli(aml.main)
