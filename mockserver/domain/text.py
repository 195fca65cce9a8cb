"""Text a client names things with, checked as Django REST framework's ``CharField`` checks it."""

from __future__ import annotations

import re

from mockserver.errors import ValidationError

__all__ = ["check_characters"]


def check_characters(value: str, attr: str) -> None:
    """The validators every DRF ``CharField`` runs after its length: no NUL, no lone surrogate.

    >>> check_characters("ok", "name")
    >>> check_characters("a" + chr(0xD800), "name")
    Traceback (most recent call last):
    ...
    mockserver.errors.ValidationError: Surrogate characters are not allowed: U+D800.
    """
    if "\x00" in value:
        raise ValidationError("Null characters are not allowed.", code="null_characters_not_allowed", attr=attr)
    surrogate = _SURROGATE.search(value)  # one C-level scan: a query may be megabytes long
    if surrogate is not None:
        raise ValidationError(
            f"Surrogate characters are not allowed: U+{ord(surrogate.group()):X}.",
            code="surrogate_characters_not_allowed",
            attr=attr,
        )


_SURROGATE = re.compile("[\ud800-\udfff]")
