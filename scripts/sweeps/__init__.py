"""Azure ML sweep jobs run locally. Today: the trials a sweep would run, drawn as Azure ML
draws them from its search space (`scripts.jobspec.sweep`), after azure-ai-ml's own check
of the job file (`just local EXP -f SWEEP --dry-run`).

Owns: which trials a local sweep runs, and their values.
Must not: run a trial's processes itself (scripts.runner does), or talk to Azure.
"""
