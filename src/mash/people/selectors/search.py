"""search: see the package docstring."""
