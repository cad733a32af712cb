"""Workspace members over their lifetime: creating an experiment (from the template, another
experiment, or an Azure ML job YAML, its code and its conda file: `just import`),
removing one, keeping experiments independent of each other in the root pyproject.toml,
changes of the workspace taking turns, and each member's own development environment (its
`.venv`).

Owns: experiments/NAME folders as wholes, the `[tool.uv] conflicts` declaration of the
root pyproject.toml, updating uv.lock, and members' `.venv` folders.
Must not: touch run folders or MLflow records (past runs outlive an experiment; a removed
experiment is parked through `scripts.project.parking`), or Azure.
"""
