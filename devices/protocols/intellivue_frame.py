"""Philips IntelliVue Data Export over MIB/RS-232: the serial framing (sans-I/O).

From the Philips "Data Export Interface Programming Guide", chapter 4 "Transport Protocols for
the MIB/RS232 Interface" (sections Framing, Header Information, Frame Check Sequence Field,
Transparency, Frame Abort), as summarised in ../shared/design/protocols.md §2.3.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from devices.protocols.transparency import ESCAPE, FrameError, unstuff

# -- transport (guide ch. 4; protocols.md §2.3) -------------------------------------------
BOF, EOF = 0xC0, 0xC1
SPECIAL = bytes((BOF, EOF, ESCAPE))  # the Transparency section's three bytes
PROTOCOL_ID, MSG_TYPE = 0x11, 0x01
FRAME_HEADER = struct.Struct(">BBH")  # protocol id, message type, user-data length
MAX_USER_DATA = 8192  # a monitor's longest linked poll result is well below this
MAX_ESCAPED = 2 * (FRAME_HEADER.size + MAX_USER_DATA + 2)


@dataclass(slots=True)
class DecoderStats:
    good: int = 0
    bad_checksum: int = 0
    malformed: int = 0
    unknown_unit: int = 0
    """Values refused because their unit code is not one the signal may arrive in."""
    messages: dict[str, int] = field(default_factory=dict)

    @property
    def bad(self) -> int:
        return self.bad_checksum + self.malformed


# -- framing -----------------------------------------------------------------------------


def _fcs_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_FCS_TABLE = _fcs_table()


def fcs16(data: bytes) -> int:
    """The frame check: CRC-16/X-25 (RFC 1662 FCS-16), as the guide's "Frame Check Sequence
    Field" section asks; "123456789" gives 0x906E."""
    crc = 0xFFFF
    table = _FCS_TABLE
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFF


def unescape(body: bytes) -> bytes:
    return unstuff(body, SPECIAL)


class Deframer:
    """Splits a byte stream into checked user data; counts what it throws away."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_frame = False
        self.stats = DecoderStats()

    def reset(self) -> None:
        """Forget a partial frame (after a reconnect); the counts are kept."""
        self._buf.clear()
        self._in_frame = False

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        buf += data
        out: list[bytes] = []
        while buf:
            if not self._in_frame:
                start = buf.find(BOF)
                if start < 0:
                    buf.clear()  # line noise between frames
                    break
                del buf[: start + 1]
                self._in_frame = True
            end = buf.find(EOF)
            restart = buf.find(BOF, 0, end if end >= 0 else len(buf))
            if restart >= 0:  # a new frame began before this one ended: resync on it
                self.stats.malformed += 1
                del buf[: restart + 1]
                continue
            if end < 0:
                if len(buf) > MAX_ESCAPED:
                    self.stats.malformed += 1
                    self.reset()
                break
            body = bytes(buf[:end])
            del buf[: end + 1]
            self._in_frame = False
            user = self._check(body)
            if user is not None:
                out.append(user)
        return out

    def _check(self, body: bytes) -> bytes | None:
        if body.endswith(b"\x7d"):  # "7D C1": the sender aborted the frame
            self.stats.malformed += 1
            return None
        try:
            raw = unescape(body)
        except FrameError:
            self.stats.malformed += 1
            return None
        if len(raw) < FRAME_HEADER.size + 2:
            self.stats.malformed += 1
            return None
        content, fcs = raw[:-2], raw[-2] | raw[-1] << 8  # sent least significant byte first
        if fcs16(content) != fcs:
            self.stats.bad_checksum += 1
            return None
        proto, kind, length = FRAME_HEADER.unpack_from(content)
        if proto != PROTOCOL_ID or kind != MSG_TYPE or length != len(content) - 4:
            self.stats.malformed += 1
            return None
        self.stats.good += 1
        return content[FRAME_HEADER.size :]
