"""Seeding, so that a run is repeatable from its parameters."""

import random

import numpy as np


def seeded_rng(seed: int) -> np.random.Generator:
    """Seed Python's and NumPy's global generators and return a fresh NumPy Generator."""
    random.seed(seed)
    np.random.seed(seed)
    return np.random.default_rng(seed)
