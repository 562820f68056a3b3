"""MASH Hub: a Multi-Agency Safeguarding Hub under a signed Information Sharing Agreement."""
