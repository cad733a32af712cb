"""Local execution, the one runner behind `just local`, `just rerun` and `just bench`:
prepare (check, isolate, resolve, pick the environment and the store) -> run (the job's
command in the run folder, output tee'd to logs/) -> record (MLflow run finished, run.json).

Owns: local environments (runs/.venvs/), the job's process and its signals, and what a run
adds to its folder (outputs/, logs/, run.json through `scripts.runfolder.manifest`).
Must not: talk to Azure, or reach into MLflow stores but through `scripts.tracking`.
"""
