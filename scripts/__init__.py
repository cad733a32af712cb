"""The Python behind the justfile recipes: the flat modules are the commands, one per
recipe; the packages are the core they share, grouped by concern (see each package's
docstring, and README "Layout")."""

import sys

# Every recipe starts a fresh interpreter, so import time is the tooling's start-up cost.
# Where PYTHONDONTWRITEBYTECODE is set (many containers and CI machines) every import would
# be compiled again on each start (~0.1 s here); this process caches its bytecode anyway.
# Only this process is affected: jobs get the environment variable as it was.
sys.dont_write_bytecode = False
