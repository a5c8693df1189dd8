"""Errors the write path raises; entry points turn them into JSON or form messages."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One fault: ``path`` names the field (``phones.1``, ``custom.shoe_size``), ``message`` says why."""

    path: str
    message: str


class DomainValidationError(Exception):
    """Input was refused; nothing was stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, path: str, message: str) -> "DomainValidationError":
        return cls([FieldError(path, message)])


class NotFound(Exception):
    """The object does not exist or the actor may not see it (the two look the same on purpose)."""


class PermissionDenied(Exception):
    """The actor is known but may not do this."""
