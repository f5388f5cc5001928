"""Failed logins lock the user's name, not the address they came from.

Behind the TLS proxy every browser shares the proxy's address, so a per-address limit tight
enough to stop guessing would lock the whole clinic out. Instead a name locks after
`failures` wrong passwords in a row, for `first_lock_s`, doubling at each further lock up to
`max_lock_s`; a right password (or an admin's unlock) clears it. The address keeps only a
generous limit (Flask-Limiter, in the web layer). Deciding only: time is passed in, and the
caller audits what it reports.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

MAX_NAMES = 10_000  # names tracked at once: a flood of invented names cannot grow it forever


@dataclass
class _Name:
    failures: int = 0
    locks: int = 0  # locks so far: the next one lasts twice as long
    until: float = 0.0


@dataclass
class LoginLockout:
    failures: int = 5
    first_lock_s: float = 60.0
    max_lock_s: float = 3600.0
    _names: dict[str, _Name] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def locked_until(self, name: str, now: float) -> float | None:
        """When `name` may try again, or None if it may now."""
        with self._lock:
            entry = self._names.get(name.lower())
            return entry.until if entry is not None and entry.until > now else None

    def failed(self, name: str, now: float) -> float | None:
        """A wrong password for `name`; returns the end of the lock if this one set it."""
        with self._lock:
            key = name.lower()
            entry = self._names.get(key)
            if entry is None:
                if len(self._names) >= MAX_NAMES:
                    self._names.pop(next(iter(self._names)))
                entry = self._names[key] = _Name()
            entry.failures += 1
            if entry.failures < self.failures:
                return None
            entry.failures = 0
            entry.until = now + min(self.first_lock_s * 2**entry.locks, self.max_lock_s)
            entry.locks += 1
            return entry.until

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._names.pop(name.lower(), None)

    def unlock(self, name: str, now: float) -> bool:
        """An admin's unlock; True if the name was locked."""
        with self._lock:
            entry = self._names.pop(name.lower(), None)
            return entry is not None and entry.until > now

    def locked(self, now: float) -> dict[str, float]:
        """Names locked now, and until when (the admin page)."""
        with self._lock:
            return {k: e.until for k, e in self._names.items() if e.until > now}
