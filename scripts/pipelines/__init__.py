"""Azure ML pipeline jobs run locally, as Azure ML runs them: prepare (the pipeline read
into a graph by `scripts.jobspec.pipeline`, checked by azure-ai-ml, isolated into one run
folder by `scripts.runfolder.pipeline`, each step's inputs resolved to what it is bound to)
-> run (the steps in the graph's order, the independent ones at the same time, each one
a command job run by `scripts.runner` or, a sweep step, a sweep run by `scripts.sweeps`,
all under one Supervisor) -> record (a pipeline
MLflow run with one child run per step, run.json). A step whose every part Azure ML
compares is unchanged since an earlier run is reused, not run (reuse.py).

Owns: the order steps run in, their concurrency, what a failed step stops, which steps
are reused, and the pipeline's own record.
Must not: run a step's processes itself (scripts.runner does), or talk to Azure.
"""
