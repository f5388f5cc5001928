"""The ACK a PCD-01 message earns (IHE PCD TF-2 Rev 8.0 §3.1.4.1.4, Appendix B.2-B.3).

MSA-1 is AA, AE or AR (original mode, as gateways such as the GE B40 expect) and MSA-2
echoes MSH-10. What was wrong goes in an ERR segment, not MSA-3, which TF-2 Table B.2-2
marks as not used: ERR-3 an HL7 table 0357 code, ERR-4 severity E, ERR-8 the text.
"""

from __future__ import annotations

import hl7
from hl7.exceptions import HL7Exception

# HL7 table 0357 (message error condition codes)
SEGMENT_SEQUENCE, REQUIRED_FIELD, DATA_TYPE, TABLE_VALUE = 100, 101, 102, 103
UNSUPPORTED_TYPE = 200
ERROR_NAMES = {
    SEGMENT_SEQUENCE: "Segment sequence error",
    REQUIRED_FIELD: "Required field missing",
    DATA_TYPE: "Data type error",
    TABLE_VALUE: "Table value not found",
    UNSUPPORTED_TYPE: "Unsupported message type",
}

# What the hl7 package raises on input it cannot take (an assert, too: found by fuzzing).
HL7_ERRORS = (
    HL7Exception,
    IndexError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    AssertionError,
)


def ack(msg: hl7.Message, code: str, error: int = 0, reason: str = "") -> str:
    try:
        text = str(msg.create_ack(code, application="KETAMINE_STATION", facility="STATION"))
    except HL7_ERRORS:  # an MSH the package parses but cannot answer (found by fuzzing)
        try:
            raw = str(msg)
        except HL7_ERRORS:  # nor write back out: a bare "MSH" segment (found by fuzzing)
            raw = ""
        return minimal_ack(raw, code, error, reason)
    return text.rstrip("\r") + "\r" + err_segment(error, reason)


def minimal_ack(text: str, code: str, error: int, reason: str) -> str:
    """An ACK for a message whose MSH could not be read: echo the control id if found."""
    control = ""
    first = text.split("\r", 1)[0]
    if first.startswith("MSH") and len(first) > 3:
        fields = first.split(first[3])
        control = fields[9] if len(fields) > 9 else ""
    control = "".join(c for c in control if c.isalnum() or c in "-_.")[:40]
    msh = f"MSH|^~\\&|KETAMINE_STATION|STATION|||||ACK|{control}|P|2.6"
    return f"{msh}\rMSA|{code}|{control}\r" + err_segment(error, reason)


def err_segment(error: int, reason: str) -> str:
    if not error:
        return ""
    # one line of plain text: no delimiters of its own
    text = "".join(c if c.isprintable() and c not in "|^~\\&" else " " for c in reason)
    return f"ERR|||{error}^{ERROR_NAMES[error]}^HL70357|E||||{text[:200]}\r"
