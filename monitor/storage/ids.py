"""Session ids unique across stations: 48 bits of milliseconds then 80 random bits, in
Crockford base32 (26 characters). Ids sort by time as text, and two stations merging their
logs never collide the way the integer display numbers do."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 26  # 130 bits of text for 128 bits of id
_TIME_BITS, _RANDOM_BITS = 48, 80


def new_uid(t: float) -> str:
    """A fresh id for something that started at `t` (epoch seconds)."""
    ms = min(max(int(t * 1000), 0), (1 << _TIME_BITS) - 1)
    value = (ms << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)
    chars = []
    for _ in range(LENGTH):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def uid_time(uid: str) -> float:
    """The epoch seconds (to the millisecond) an id was made for."""
    value = 0
    for char in uid.upper():
        value = value * 32 + ALPHABET.index(char)
    return (value >> _RANDOM_BITS) / 1000
