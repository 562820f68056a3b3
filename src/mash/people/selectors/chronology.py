"""chronology: see the package docstring."""
