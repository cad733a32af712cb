"""Workspace members over their lifetime: creating an experiment (from the template, another
experiment, or an Azure ML job YAML and its code: `just import`), removing one, keeping
experiments independent of each other in the root pyproject.toml, and each member's own
development environment (its `.venv`).

Owns: experiments/NAME folders as wholes, the `[tool.uv] conflicts` declaration of the
root pyproject.toml, updating uv.lock, and members' `.venv` folders.
Must not: touch runs/ (past runs and MLflow records outlive an experiment) or Azure.
"""
