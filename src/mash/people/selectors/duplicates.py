"""duplicates: see the package docstring."""
