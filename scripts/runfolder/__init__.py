"""The run folder: what one job needs, laid out as Azure ML receives it, and what the run
recorded there (outputs, logs, run.json).

Owns: runs/EXPERIMENT/RUN/, its layout (`layout`, the one place its names are defined) and
its manifest, run.json.
Must not: run the job, or touch MLflow or Azure.
"""
