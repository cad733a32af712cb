"""The Python behind the justfile recipes: one module per command over a small core."""
