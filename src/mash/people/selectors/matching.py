"""matching: see the package docstring."""
