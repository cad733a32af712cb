"""Azure ML: the workspace from the settings (and AzureML, what reads it), the job built and
validated by azure-ai-ml from a run folder, its submission, jobs as Azure ML reports them
(jobs.py), `--exp` experiment commits, data assets and Blob transfers.

Owns: everything that talks to Azure (`workspace.ml_client`, the one object tests replace)
and the experiments branch (`experiment_commit`, git plumbing only).
Must not: run jobs locally, touch MLflow stores, or write run folders after they are made.
"""
