"""core keeps no tables of its own: a person's amendment history is people.PersonRevision (encrypted,
removed by retention with the person); migration core 0002 removed the generic Revision table."""
