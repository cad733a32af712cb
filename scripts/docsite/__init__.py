"""The documentation site (MkDocs, mkdocs.yml): the pages derived from the project itself, so
that they cannot drift: the recipe reference, from the justfile and each command's own
`--help`, and the benchmarks page, from what `just bench --record` wrote.

Owns: the generated pages and the MkDocs hook that adds them (`hooks.py`).
Must not: import a command module (it runs them, as a user would), or write anything but
the site MkDocs builds under runs/.
"""
