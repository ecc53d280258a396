"""One error shape for invalid configuration data: the dotted field that is wrong, and why."""

from __future__ import annotations

__all__ = ["FieldError"]


class FieldError(ValueError):
    """``field`` is the dotted path of the offending key (``window.size``, ``entities.email.action``)."""

    def __init__(self, field_path: str, why: str) -> None:
        super().__init__(f"{field_path}: {why}")
        self.field = field_path
        self.why = why
