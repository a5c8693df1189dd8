"""Identity resolution of a batch of events, in memory (R2.1, R2.2). No database.

Given what the database knows (which customer holds each identifier, how many of each kind each
customer has, which single-valued kinds each has verified), walk the events in order and decide for
each its customer, which new identifiers to attach where, which customers to merge and which pairs
a guard sends to review. New customers are virtual refs (negative ints) until the caller creates them.
The walk is the same whether the batch holds one event or ten thousand, so the bulk path and the
one-event path give the same customers.
"""

from collections import Counter
from dataclasses import dataclass, field

from clientbase.identity.guards import Guards, verified_conflict
from clientbase.interactions.parsing import CarriedIdentifier, ParsedEvent


@dataclass
class KnownState:
    """``owner``: every stored identifier the events carry. ``counts`` and ``verified_kinds``: at least
    every customer the walk may attach an identifier to or merge (the caller may leave out customers
    whose events only name identifiers they hold already; a missing one raises KeyError, never guesses)."""

    owner: dict[str, int]
    counts: dict[int, Counter[str]]
    verified_kinds: dict[int, set[str]]
    reviewed_pairs: set[frozenset[int]] = field(default_factory=set)


@dataclass
class Plan:
    targets: dict[int, int] = field(default_factory=dict)  # event index -> ref
    new_identifiers: list[tuple[CarriedIdentifier, int, int]] = field(default_factory=list)  # (id, ref, event)
    merges: list[tuple[int, int, int]] = field(default_factory=list)  # (survivor, absorbed, event) real ids
    reviews: list[tuple[int, int, frozenset[str], int]] = field(default_factory=list)  # refs, kinds, event
    capped: list[tuple[int, str]] = field(default_factory=list)  # (event index, key) not attached: cap
    # (event index, a, b): stored customers the event links that a person keeps apart, or has yet to decide on
    kept_apart: list[tuple[int, int, int]] = field(default_factory=list)
    new_refs: list[int] = field(default_factory=list)
    parent: dict[int, int] = field(default_factory=dict)

    def find(self, ref: int) -> int:
        root = ref
        while root in self.parent:
            root = self.parent[root]
        while ref != root:  # path compression keeps long merge chains cheap
            self.parent[ref], ref = root, self.parent[ref]
        return root


def _priority(ref: int) -> tuple[int, int]:
    """Existing customers before new ones; the oldest (lowest id, earliest created) survives."""
    return (0, ref) if ref > 0 else (1, -ref)


def resolve(events: list[ParsedEvent], known: KnownState, guards: Guards) -> Plan:
    plan = Plan()
    owner = dict(known.owner)
    counts: dict[int, Counter[str]] = {k: Counter(v) for k, v in known.counts.items()}
    verified: dict[int, set[str]] = {k: set(v) for k, v in known.verified_kinds.items()}
    reviewed: set[frozenset[int]] = set()  # pairs this batch sent to review (a stored pair is in ``apart``)
    # Who each customer is kept apart from, following this batch's merges: a customer kept apart from
    # someone who is merged into a third one here is kept apart from that survivor from then on.
    apart: dict[int, set[int]] = {}
    for pair in known.reviewed_pairs:
        a, b = tuple(pair)
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    for event in events:
        refs = sorted({plan.find(owner[i.key]) for i in event.identifiers if i.key in owner}, key=_priority)
        if not refs:
            target = -(len(plan.new_refs) + 1)
            plan.new_refs.append(target)
            counts[target], verified[target] = Counter(), set()
        else:
            target = refs[0]
            for other in refs[1:]:
                pair = frozenset((target, other))
                if other in apart.get(target, ()):
                    # A person kept them apart (in the queue, or by undoing their merge) or has yet to
                    # decide: no event merges them, whatever it carries.
                    plan.kept_apart.append((event.index, target, other))
                    continue
                kinds = verified_conflict(verified[target], verified[other], guards.single_valued)
                if kinds:
                    if pair not in reviewed:
                        reviewed.add(pair)
                        plan.reviews.append((target, other, frozenset(kinds), event.index))
                    continue
                plan.parent[other] = target
                counts[target].update(counts.pop(other))
                verified[target] |= verified.pop(other)
                for kept in apart.pop(other, ()):
                    apart[kept].discard(other)
                    apart[kept].add(target)
                    apart.setdefault(target, set()).add(kept)
                if other > 0:
                    plan.merges.append((target, other, event.index))
        plan.targets[event.index] = target
        for identifier in event.identifiers:
            if identifier.key in owner:
                continue
            if counts[target][identifier.kind] >= guards.cap(identifier.kind):
                plan.capped.append((event.index, identifier.key))
                continue
            owner[identifier.key] = target
            counts[target][identifier.kind] += 1
            if identifier.verified and identifier.kind in guards.single_valued:
                verified[target].add(identifier.kind)
            plan.new_identifiers.append((identifier, target, event.index))
    return plan
