"""Config numbers are numbers: YAML's `true` is not port 1, nor `false` a limit of 0.

Pydantic's lax mode takes a boolean for an int or float field; a config typo then becomes a
working value without a word. Every config model refuses that, naming the field."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, model_validator


def _numeric(annotation: Any) -> bool:
    """int or float, alone or in a union (`float | None`), but not a bool field."""
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return bool not in args and any(a in (int, float) for a in args)
    return False


class NumbersNotBooleans(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                value = data.get(info.alias or name)
                if isinstance(value, bool) and _numeric(info.annotation):
                    raise ValueError(f"{name}: {str(value).lower()} is not a number")
        return data
