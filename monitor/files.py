"""Files that hold the clinical record stay the station user's own (issue: file permissions).

The session log holds password hashes, patient references and the record itself; exports
hold the same. They are created owner-only, and a log that others may write is refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

FOLDER_MODE, FILE_MODE = 0o700, 0o600


class SharedFileError(Exception):
    """A record file that other users may write: one line for the operator."""


def private_folder(path: Path) -> None:
    """Create `path` (and missing parents) owner-only; an existing folder is left as set up."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is cut by the umask, never widened


def private_file(path: Path) -> None:
    """Create `path` empty and owner-only if missing; refuse it if others may write it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.close(fd)
    except FileExistsError:
        refuse_shared(path)


def refuse_shared(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SharedFileError(
            f"{path}: group- or world-writable (mode {mode:04o}); refusing to start"
            f" (chmod 600 {path})"
        )


def make_private(path: Path) -> None:
    """A file just written (an export): owner-only."""
    os.chmod(path, FILE_MODE)
