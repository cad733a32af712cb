"""The project: the `Project` value (where everything is), its experiments and packages,
its settings (`.env`, `.env.local`), and the two tools that read it, uv and git.

Owns: reading the project's files; running uv and git in its root; runs/.cache/ (what is
derived from uv.lock).
Must not: touch run folders, MLflow stores or Azure.
"""
