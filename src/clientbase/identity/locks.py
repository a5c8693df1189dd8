"""Identity locks: which writers may change identifiers, merges and their customers at the same time.

The rule (docs/identity.md, Concurrency). On PostgreSQL every identity writer takes transaction-level
advisory locks, in this order, and never another identity lock afterwards:

1. the identity lock ``IDENTITY_LOCK_KEY``: **exclusive** for bulk ingest groups, merges, unmerges,
   retries and customer import batches (``lock_identity``); **shared** for a small ingest (``lock_identifiers``, at most
   ``FINE_LIMIT`` identifiers in one group that is its own transaction: a single-event API request) and for
   an order import batch, which adds no identifiers but holds many customers (``held_owners``);
2. a shared-mode writer then locks each normalised ``(kind, value)`` its events carry (a CRC-32 of it),
   in ascending order: two events that carry one identifier wait for each other, so at most one of them
   creates its identifier or customer;
3. it looks up who holds those identifiers and locks those customers (ascending keys) in one statement,
   then looks the holders up again in a second statement, whose snapshot is newer than any merge that
   held those locks: a holder that changed was merged meanwhile (a merge moves all of the absorbed
   customer's identifiers, and nothing else may move one whose key the writer holds), and
   ``OwnersMoved`` makes the writer start over (its locks go with the rolled-back savepoint). A
   customer's identifiers, counts, verified kinds and reviews change only under its lock (a shared-mode
   writer's merge holds both customers) or under the exclusive lock, so what the writer read stays true
   until it commits. Steps 1 to 3 are three statements sent together (``lock_identifiers``).

Every lock is granted in one global order (the identity lock, then identifier keys ascending, then
customer keys ascending; each class in its own key space), so shared-mode writers cannot deadlock one
another, and an exclusive writer waits for all of them or they for it. PostgreSQL queues a new shared
request behind a waiting exclusive one, so bulk ingest is not starved. Hash collisions only make two
unrelated writers wait for each other. A transaction must not ask for the exclusive lock after taking
shared-mode locks (it would wait for writers waiting for it): ``ingest_events`` uses the shared mode only
when its one group is the whole transaction.

Customer rows (PostgreSQL row locks, taken after any identity lock and before anything else):

4. a merge or unmerge locks the rows of the customers it joins or parts (``FOR NO KEY UPDATE``, ascending
   ids) before it reads or moves anything of theirs (``merging_lock``);
5. a writer of a customer's own rows that is not an identity writer (points, orders, tasks, messages,
   consents, profile edits) holds that customer's row first (``hold_customer``: ``FOR NO KEY UPDATE`` too,
   not ``FOR SHARE``: a transaction that holds the row shared and later updates it, as an ingest batch
   whose purchase earned points may then write the customer's traits, would wait for a till that shares
   it while the till waits for the points account) and is refused with ``MergedAway`` if it is a
   tombstone. Writers of one customer so go one at a time, as they did on its points account. A batch
   that files rows under the customers its rows name by identifiers (an order import) holds them all
   (``held_owners``), after the shared identity lock: a bulk writer updates customers in its own order.

   Either the writer commits first and the merge then moves what it wrote, or the merge commits first
   and the writer, granted its lock, reads the tombstone and writes nothing. Without this a purchase's
   points or an unsubscribe written while a merge ran stayed with the absorbed customer, where nobody
   sees them.

On SQLite every write transaction is ``BEGIN IMMEDIATE``, which already serialises writers: nothing is
taken, and ``hold_customer`` only checks.
"""

import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from django.db import connection, models

from clientbase.core import fastsql
from clientbase.core.errors import MergedAway, NotFound
from clientbase.core.fastinsert import pg_array
from clientbase.customers.models import Customer
from clientbase.customers.selectors import survivor_of
from clientbase.identity.selectors import identifier_owners, owners_found, owners_statement

IDENTITY_LOCK_KEY = 0x636C6964  # "clid"; the one-bigint advisory key space
# Two-int4 advisory key spaces (never equal to a one-bigint key): identifiers by hash, customers by id.
_IDENTIFIER_SPACE = 0x636C6901
_CUSTOMER_SPACE = 0x636C6902
# Most identifiers a shared-mode writer locks one by one; beyond it the exclusive lock is cheaper than
# thousands of entries in PostgreSQL's shared lock table (max_locks_per_transaction × connections).
FINE_LIMIT = 32


class OwnersMoved(Exception):
    """A customer found holding an identifier was merged into another before its lock was granted."""


def _int4(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def identifier_key(kind: str, value: str) -> int:
    """The advisory key of a normalised identifier: stable across processes (unlike ``hash``)."""
    return _int4(zlib.crc32(f"{kind}:{value}".encode()))


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def lock_identity() -> None:
    """Take the identity lock exclusively, for the rest of the transaction: no other identity writer runs.

    For bulk ingest groups, merges, unmerges; on SQLite the IMMEDIATE transaction already is this lock.
    """
    if _postgres():
        fastsql.rows("SELECT pg_advisory_xact_lock(%s)", [IDENTITY_LOCK_KEY])


@dataclass(frozen=True)
class IdentityLock:
    """What a writer holds: the exclusive lock, or (``shared``) the keys of the identifiers ``locked``
    under the shared one, with those identifiers' holders (``owners``), found and locked with them."""

    shared: bool = False
    locked: frozenset[tuple[str, str]] = frozenset()
    owners: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def holders(self, identifiers: Collection[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The customer holding each of these stored identifiers: under the exclusive lock a lookup; in
        shared mode what was found when the lock was taken, which stays true while it is held."""
        if not self.shared:
            return identifier_owners(set(identifiers))
        if not self.locked.issuperset(identifiers):
            raise RuntimeError("a shared-mode writer reads the holders of the identifiers it locked, no others")
        return {pair: self.owners[pair] for pair in identifiers if pair in self.owners}


EXCLUSIVE = IdentityLock(shared=False)


def lock_identifiers(identifiers: Collection[tuple[str, str]], *, shared: bool) -> IdentityLock:
    """Lock for a writer of these normalised (kind, value) identifiers.

    ``shared`` asks for the fine-grained mode (the caller's transaction holds no identity lock yet and
    will take no exclusive one); it is granted on PostgreSQL for at most ``FINE_LIMIT`` identifiers,
    otherwise the exclusive lock is taken. In shared mode the identifiers' holders are found and locked
    here too (``IdentityLock.holders`` gives them), or ``OwnersMoved`` is raised.
    """
    if not _postgres():
        return EXCLUSIVE
    if not shared or len(identifiers) > FINE_LIMIT:
        lock_identity()
        return EXCLUSIVE
    pairs = set(identifiers)
    keys = sorted({identifier_key(kind, value) for kind, value in pairs})
    # The shared identity lock first, then the keys in ascending order (unnest yields the array in order,
    # and each row's lock is granted before the next row is produced). The keys go as one array literal
    # (``pg_array``): psycopg dumps a list parameter element by element in Python.
    lock = ("SELECT pg_advisory_xact_lock_shared(%s) UNION ALL SELECT pg_advisory_xact_lock(%s, k) "
            "FROM unnest(%s::int[]) AS k", [IDENTITY_LOCK_KEY, _IDENTIFIER_SPACE, pg_array(keys)])
    if not pairs:
        fastsql.rows(*lock)
        return IdentityLock(shared=True)
    # One round trip: the locks, the holders found and locked, the holders found again (step 3 above).
    _, found, again = fastsql.rows_each([lock, owners_statement(pairs, lock_space=_CUSTOMER_SPACE),
                                         owners_statement(pairs)])
    owners = owners_found(found)
    if owners_found(again) != owners:
        raise OwnersMoved
    return IdentityLock(shared=True, locked=frozenset(pairs), owners=owners)


def merging_lock() -> str:
    """The end of the statement with which a merge reads its customers' rows, first of all it sends
    (rule 4 above): `` ORDER BY id FOR NO KEY UPDATE`` on PostgreSQL, where a writer holding one of them
    (``hold_customer``) finishes first; `` ORDER BY id`` on SQLite."""
    return " ORDER BY id FOR NO KEY UPDATE" if _postgres() else " ORDER BY id"


def hold_customer(customer_id: int) -> None:
    """Keep customer ``customer_id`` from being merged away or parted until this transaction ends (rule 5
    above); ``MergedAway`` (naming the survivor) if it already is a tombstone, ``NotFound`` if there is none.

    For services that file rows under a customer (a purchase, points, a task, a consent, a profile edit):
    called first in their transaction, after any identity lock the transaction takes."""
    if not connection.in_atomic_block:
        raise RuntimeError("hold_customer holds a customer for the rest of a transaction: call it inside one")
    table = connection.ops.quote_name(Customer._meta.db_table)
    lock = " FOR NO KEY UPDATE" if _postgres() else ""
    found = fastsql.rows(f"SELECT merged_into_id FROM {table} WHERE id = %s{lock}", [customer_id])
    if not found:
        raise NotFound(f"Customer #{customer_id}")
    if (merged_into := found[0][0]) is not None:
        raise MergedAway(customer_id, survivor_of(Customer.objects.get(pk=merged_into)).pk)


def held_owners(identifiers: Collection[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The customer holding each of these stored normalised identifiers, every one of them held (rule 5
    above) for the rest of the transaction: for a batch that files rows under the customers its rows name
    by identifiers (an order import).

    The identity lock is taken in shared mode first (rule 1): a bulk ingest batch, a merge under the
    exclusive lock or a customer import batch updates customers in its own order and would deadlock with a
    batch holding thousands of them, so those run before or after it; single events (shared mode, at most
    two customers, in ascending order) still run beside it. The holders are then held in one statement
    (ascending ids) and looked up again: a single event's merge that committed before the hold was granted
    moved the identifiers to its survivor, which is then held too (in a statement of its own, so not in
    ascending order with the first: a merge waiting on it meanwhile could deadlock, and PostgreSQL would
    end one of the two). Once a lookup finds only held customers, none of them can be merged away or lose
    these identifiers before the transaction ends. On SQLite (writers serialised) a plain lookup."""
    pairs = set(identifiers)
    if not _postgres():
        return identifier_owners(pairs)
    if not connection.in_atomic_block:
        raise RuntimeError("held_owners holds customers for the rest of a transaction: call it inside one")
    fastsql.rows("SELECT pg_advisory_xact_lock_shared(%s)", [IDENTITY_LOCK_KEY])
    owners = identifier_owners(pairs)
    table = connection.ops.quote_name(Customer._meta.db_table)
    held: set[int] = set()
    for _ in range(5):  # each round that finds a new holder was beaten by a merge that finished meanwhile
        if wanted := set(owners.values()) - held:
            fastsql.rows(f"SELECT id FROM {table} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR NO KEY UPDATE",
                         [pg_array(sorted(wanted))])
            held |= wanted
        again = identifier_owners(pairs)
        if set(again.values()) <= held:
            return again
        owners = again
    raise RuntimeError("the holders of a batch's identifiers kept changing")


def on_survivor[T](customer_id: int, write: Callable[[Customer], T]) -> T:
    """``write(customer)`` for the customer where the person lives now: ``customer_id`` itself, or the
    survivor at the end of its chain of merges, and again at the new survivor if a merge of that one
    finishes first (``write`` holds its customer, and ``MergedAway`` names where to go). For links a
    customer follows long after they were made (an unsubscribe, a survey)."""
    customer = survivor_of(Customer.objects.get(pk=customer_id))
    while True:
        try:
            return write(customer)
        except MergedAway as exc:
            customer = Customer.objects.get(pk=exc.survivor_id)


def hold_owner(model: type[models.Model], pk: int) -> int:
    """Hold (``hold_customer``) the customer a row of ``model`` (an order, a ledger entry) belongs to, and
    return that customer's id. Such rows move with merges and unmerges, so the owner is read again once
    held: a merge or unmerge that finished meanwhile moved the row, and the new owner is held instead."""
    rows = model._default_manager.filter(pk=pk)
    for _ in range(5):  # each try that misses was beaten by a whole merge or unmerge of this owner
        owner = rows.values_list("customer_id", flat=True).get()
        try:
            hold_customer(owner)
        except MergedAway:
            continue  # merged since the row was read: the row went to the survivor
        if rows.values_list("customer_id", flat=True).get() == owner:
            return int(owner)
    raise RuntimeError(f"the owner of {model._meta.label} #{pk} kept changing")
