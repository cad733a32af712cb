from shared.reproducibility import seeded_rng


def test_same_seed_same_draws() -> None:
    assert (
        seeded_rng(3).integers(0, 1000, 5).tolist() == seeded_rng(3).integers(0, 1000, 5).tolist()
    )
