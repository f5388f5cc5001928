"""A virtual monitor's serial port: a raw pseudo-terminal behind a stable link path."""

from __future__ import annotations

import contextlib
import os
import tty
from pathlib import Path


def open_pty(link: Path) -> tuple[int, int]:
    """(master, slave) of a new raw pty, with `link` pointing at the slave. The link is
    swapped in one rename, so a station reopening the port never finds it missing."""
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(link)
    except OSError:
        os.close(master)
        os.close(slave)
        raise
    return master, slave
