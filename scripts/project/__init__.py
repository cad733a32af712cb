"""The project: the `Project` value (where everything is), its experiments and packages,
its settings (`.env`, `.env.local`), and the two tools that read it, uv and git.

Owns: reading the project's files; running uv and git in its root; runs/.cache/ (what is
derived from uv.lock); runs/.removing/ (folders parked whole before they are deleted).
Must not: look inside run folders or MLflow stores, or talk to Azure.
"""
