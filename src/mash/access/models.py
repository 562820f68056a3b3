"""The gate keeps no data of its own: what it refuses is recorded in the audit log (mash.audit)."""
