"""Durable files: what the registers, the keyring and backups need so a crash keeps what they wrote."""

import errno
import os
from pathlib import Path

# Filesystems that cannot sync a folder say so with one of these; anything else is a real failure.
_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EBADF}


def fsync_dir(folder: Path) -> None:
    """Make a file's creation or rename in `folder` survive a crash (its entry, not only its bytes)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED:
            raise
    finally:
        os.close(fd)
