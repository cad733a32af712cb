"""Tracking: the local MLflow store (runs/mlflow.db, artifacts in runs/mlartifacts/), the
MLflow variables that point a job at it, and finishing a job's run in it.

Owns: MLflow stores and their artifact folders. `import mlflow` costs seconds, so only
creating an experiment uses MLflow itself; everything after a job is a few SQL statements.
Must not: write run folders (the runner hands it the folders to attach) or know jobs.
"""
