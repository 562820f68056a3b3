"""Pages of the person index; each feature's pages are in a module of this package."""
