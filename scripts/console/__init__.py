"""How the tooling talks to its user: one error hierarchy, one reporter, argument parsing,
and `run_cli`, which turns every failure a user or their machine can cause into one line.

Owns: the tooling's stdout and stderr (no other module prints), its exit codes, and how
stop signals end a command.
Must not: import anything else from `scripts`; every other package may import it.
"""
