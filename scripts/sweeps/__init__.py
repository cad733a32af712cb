"""Azure ML sweep jobs run locally, as Azure ML runs them: prepare (the sweep checked by
azure-ai-ml, read as a search by `scripts.jobspec.sweep`, one environment or image for
every trial, one run folder) -> run (trials drawn one after another, as many at once as
the sweep and the machine allow, each a command job run by `scripts.runner` under one
Supervisor; the early-termination policy applied to the metrics they log) -> record (a
sweep MLflow run with one child run per trial, the best trial named, run.json).

Owns: which trials a local sweep runs, their values and concurrency, which trials a
policy stops, which trial is the best, and the sweep's own record.
Must not: run a trial's processes itself (scripts.runner does), or talk to Azure.
"""
