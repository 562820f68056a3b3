"""Row ids: every table's id is a 64-bit integer, so an id past that range names no row. A page or an
operation given one answers "not found", exactly as for an id in range that names nothing."""

MAX_ID = 2**63 - 1


def in_range(value: int) -> bool:
    """Whether `value` could be a row's id."""
    return 0 < value <= MAX_ID
