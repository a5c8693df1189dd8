"""How other domains take part in merge and unmerge (R2.3, R2.4) without identity knowing them.

A domain whose rows belong to a customer registers a Participant at import time of its
``apps.py`` ``ready()`` (or its models module). Merge moves every row of the absorbed customer
to the survivor and records exactly which rows moved; unmerge sends recorded rows back and
decides the owner of rows created after the merge by ``follows``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Participant:
    """Rows of ``model`` (``"app_label.ModelName"``) that have a ``customer`` foreign key.

    follows: name of a foreign key on the model whose target decides the owner after an unmerge
        (e.g. an order ``follows="event"``: it goes wherever the event that created it goes). With
        ``None``, rows the merge moved go back and rows created after the merge stay with the survivor.
    after_change: called with the customer ids whose rows changed, after merge or unmerge, in the
        same transaction, to recompute derived figures (order statistics, balances).
    probe: for up to ``PROBE_CHUNK`` of those customers, a statement (SQL, parameters) that finds rows
        only if ``after_change`` has something to do for them. Merge and unmerge send the probes of every
        participant as one message and skip an ``after_change`` whose probes all found nothing (most
        merges of an ingest join channel-only profiles, with no orders or points).
    """

    model: str
    follows: str | None = None
    after_change: Callable[[list[int]], None] | None = None
    probe: Callable[[list[int]], tuple[str, list[Any]]] | None = None


PROBE_CHUNK = 500


_participants: dict[str, Participant] = {}


def register(participant: Participant) -> None:
    _participants[participant.model] = participant


def participants() -> list[Participant]:
    return list(_participants.values())
