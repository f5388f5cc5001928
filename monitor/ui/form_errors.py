"""A refused form entry shown beside the field it names, with the field marked.

The refusals name their field first ("weight: 15 is outside 20 to 300 kg", "enter the new
rate"), so the bed page can put the same words under the field as under the panel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# A refusal names its field first ("weight: 15 is outside 20 to 300 kg"); that field shows it.
FIELD_OF = {
    "weight": "s-weight",
    "rate": "s-plan-rate",
    "concentration": "s-conc",
    "duration": "s-duration",
    "planned dose": "s-duration",
    "plan": "s-duration",
    "patient reference": "s-patient",
    "indication": "s-indication",
    "new rate": "s-new-rate",
    "bolus": "s-bolus-dose",
    "RASS": "s-rass",
    "MOAA_S": "s-moaas",
    "PAIN_NRS": "s-pain",
    "NAUSEA": "s-nausea",
    "note": "s-note",
}
FIELDS = tuple(dict.fromkeys(FIELD_OF.values()))
# A field name that means another field for one button: "rate" when changing the rate.
FIELD_FOR_BUTTON = {"s-rate": {"rate": "s-new-rate"}}


def field_errors(message: Any, cls: Any, button: str = "") -> list[str | None]:
    """The `error` of each field of the bed page's forms: the refusal beside the field it
    names, None elsewhere."""
    if not isinstance(message, str) or cls != "form-msg error":
        return [None] * len(FIELDS)
    return errors_beside(message, FIELD_OF | FIELD_FOR_BUTTON.get(button, {}), FIELDS)


def errors_beside(
    message: str, field_of: Mapping[str, str], fields: Sequence[str]
) -> list[str | None]:
    """The `error` of each of `fields`: `message` beside the field whose name it starts with
    (`field_of`: name -> field id), None elsewhere."""
    errors: list[str | None] = [None] * len(fields)
    text = message.removeprefix("enter the ").removeprefix("the ")
    for name in sorted(field_of, key=len, reverse=True):  # "new rate" before "rate"
        if text.startswith((name + ":", name + " must", name + " ")) or text == name:
            errors[list(fields).index(field_of[name])] = message
            break
    return errors
