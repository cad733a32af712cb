"""The Azure ML job spec as the local tooling reads it: every YAML file read one way
(documents.py: UTF-8, bounded), the job YAML and its checks,
`--set` overrides, inputs resolved to local values, the command with its references
replaced, what one machine reproduces of it (parity.py, distribution.py), and azure-ai-ml's
own schema (schema.py, which imports the SDK only when called, and types `--set` values
as it does).

Owns: the meaning of the job YAML's fields for a local run.
Must not: write anything or run anything (it only reads the job file and looks at the
paths its inputs name); depends on `scripts.console` only.
"""
