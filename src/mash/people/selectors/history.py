"""history: see the package docstring."""
