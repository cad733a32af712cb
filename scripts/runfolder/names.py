"""Run names: sortable by time, readable, and unique even within one second."""

import secrets
import string
from datetime import datetime

ADJECTIVES = (
    "amber", "bold", "brave", "brisk", "calm", "clever", "cosmic", "crisp", "dapper", "eager",
    "fancy", "gentle", "golden", "happy", "honest", "jolly", "keen", "lively", "lucid", "mellow",
    "nimble", "noble", "plucky", "polite", "quick", "quiet", "rapid", "shiny", "silent", "sleek",
    "snowy", "steady", "sunny", "swift", "tidy", "vivid", "witty", "zesty",
)  # fmt: skip
NOUNS = (
    "badger", "beacon", "canyon", "cedar", "comet", "coral", "crane", "delta", "ember", "falcon",
    "fjord", "gecko", "glacier", "harbor", "heron", "island", "lagoon", "lantern", "maple",
    "meadow", "nebula", "otter", "panda", "pebble", "quartz", "raven", "river", "sparrow",
    "spruce", "summit", "thistle", "tiger", "tundra", "walrus", "willow", "zephyr",
)  # fmt: skip
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


def new_run_name(now: datetime | None = None) -> str:
    """`YYYYmmdd_HHMMSS_<adjective>_<noun>_<6 random [a-z0-9]>`."""
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))
    return f"{stamp}_{secrets.choice(ADJECTIVES)}_{secrets.choice(NOUNS)}_{suffix}"
