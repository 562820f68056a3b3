"""Encrypted backups of the database and their restore (docs/backups.md)."""
