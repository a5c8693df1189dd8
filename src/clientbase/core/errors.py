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


class MergedAway(DomainValidationError):
    """A change aimed at a customer merged into another: the absorbed customer is a tombstone that only
    unmerge brings back, so a change there would be filed under a profile no one sees (an identifier added
    to it would attach later events to it). ``survivor_id``: where the customer lives on."""

    def __init__(self, customer_id: int, survivor_id: int) -> None:
        super().__init__([FieldError("customer_id", f"Customer #{customer_id} was merged into #{survivor_id}: "
                                                     f"make the change on #{survivor_id}.")])
        self.customer_id, self.survivor_id = customer_id, survivor_id


class NotFound(Exception):
    """The object does not exist or the actor may not see it (the two look the same on purpose)."""


class PermissionDenied(Exception):
    """The actor is known but may not do this."""
