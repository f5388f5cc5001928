"""Byte transparency (byte stuffing) as PPP's HDLC-like framing does it (RFC 1662 §4.2),
shared by the DRI and IntelliVue serial framings: each special byte is sent as the escape
byte 0x7D followed by the byte XOR 0x20. The protocols differ only in which bytes are
special (DRI: its flag 0x7E and 0x7D; IntelliVue: BOF 0xC0, EOF 0xC1 and 0x7D)."""

from __future__ import annotations

ESCAPE = 0x7D


class FrameError(ValueError):
    pass


def stuff(data: bytes, special: bytes) -> bytes:
    """`data` with each byte of `special` (which includes ESCAPE) escaped."""
    out = data.replace(bytes((ESCAPE,)), bytes((ESCAPE, ESCAPE ^ 0x20)))  # the escape first
    for b in special:
        if b != ESCAPE:
            out = out.replace(bytes((b,)), bytes((ESCAPE, b ^ 0x20)))
    return out


def unstuff(body: bytes, special: bytes) -> bytes:
    """The bytes `stuff` was given; FrameError when an escape is not of a special byte."""
    if ESCAPE not in body:
        return body
    first, *rest = body.split(bytes((ESCAPE,)))
    out = [first]
    for part in rest:
        if not part or part[0] ^ 0x20 not in special:
            raise FrameError(f"escape byte not followed by an escaped {special.hex(' ')}")
        out.append(bytes((part[0] ^ 0x20,)))
        out.append(part[1:])
    return b"".join(out)
