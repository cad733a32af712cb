"""Tracking: the local MLflow store (runs/mlflow.db, artifacts in runs/mlartifacts/), its
schema check, the runs created in it before a job starts and finished after (and the
mirrored runs of jobs fetched from the cloud), the MLflow variables that hand a job its run,
and reading a run from another MLflow server (remote.py).

Owns: MLflow stores and their artifact folders. `import mlflow` costs seconds, so only
creating a new store and reading another server use MLflow itself; experiments and runs
are a few SQL statements.
Must not: write run folders (the runner hands it the folders to attach) or know jobs.
"""
