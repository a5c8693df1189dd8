"""Stage "people": the chain's guests, generated and loaded in chunks with flat memory.

Weighted choices (names, city, age band) are drawn with numpy per chunk; every other decision of a
row reads one column of a per-chunk matrix of uniforms (``U_*`` below), so a row is a pure function
of (seed, chunk, position) and the same seed always gives the same people.
"""

import math
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from multiprocessing import get_context
from typing import Any

import numpy as np

from clientbase.core.text import search_key
from clientbase.demo import names
from clientbase.demo.bulk import Batch, bulk_session, load, next_customer_id, sync_customer_ids
from clientbase.demo.business import CITIES, company_count
from clientbase.demo.person_rows import PersonRows
from clientbase.demo.stages import DemoContext

STAGE = "people"
CHUNK = 20_000
HISTORY_DAYS = 3 * 365   # customers joined over the last three years, more of them lately
# Age bands of coffee-shop guests (years, share): young adults dominate, few over 65.
AGE_BANDS = ((18, 25, 0.20), (25, 35, 0.32), (35, 45, 0.23), (45, 55, 0.13), (55, 65, 0.08), (65, 76, 0.04))
FEMALE_SHARE = 0.56
UNIFORMS = 40
PIPELINE_FROM = 4   # chunks; fewer are generated in-process (a worker costs a second to start)


OLDER_FROM_DAYS = int(50 * 365.25)    # guests over 50 take the older generation's names
YOUNGER_TO_DAYS = int(30 * 365.25)    # guests under 30 the younger generation's


def _zipf(n: int, flatten: float = 6.0) -> np.ndarray:
    """Popularity by list position: the first names on a list are the most common ones."""
    weights = 1.0 / (np.arange(n) + flatten)
    return np.asarray(weights / weights.sum())


def _by_generation(given_names: list[str], flatten: float = 6.0) -> np.ndarray:
    """Three weight rows (older, middle, younger generation) over ``given_names``."""
    base = _zipf(len(given_names), flatten)
    rows = []
    for boosted, damped in ((names.OLDER, names.YOUNGER), (frozenset(), frozenset()),
                            (names.YOUNGER, names.OLDER)):
        factor = np.array([3.0 if n in boosted else 0.2 if n in damped else 1.0 for n in given_names])
        weights = base * factor
        rows.append(weights / weights.sum())
    return np.array(rows)


@dataclass(frozen=True)
class Lexicon:
    """Name lists with their weights and precomputed search keys (search_key per word, joined later)."""

    male_w: np.ndarray     # one row per generation: older, middle, younger
    female_w: np.ndarray
    surname_w: np.ndarray
    city_w: np.ndarray
    band_w: np.ndarray
    keys: dict[str, str]

    @classmethod
    def build(cls) -> "Lexicon":
        words = {m for row in names.MALE for m in row} | set(names.FEMALE) | set(names.SURNAMES)
        words |= {names.feminine_surname(s) for s in names.SURNAMES}
        city_w = np.array([c.weight for c in CITIES])
        band_w = np.array([b[2] for b in AGE_BANDS])
        return cls(_by_generation([m[0] for m in names.MALE]), _by_generation(list(names.FEMALE)),
                   _zipf(len(names.SURNAMES), 12.0),
                   city_w / city_w.sum(), band_w / band_w.sum(), {w: search_key(w) for w in words})


def people_count(total: int) -> int:
    return total - company_count(total)


def draw_chunk(ctx: DemoContext, lex: Lexicon, chunk: int, size: int) -> dict[str, list[Any]]:
    """The weighted draws of one chunk, as plain lists for a fast row loop."""
    rng = ctx.rng(STAGE, chunk)
    band = rng.choice(len(AGE_BANDS), size=size, p=lex.band_w)
    low = np.array([b[0] for b in AGE_BANDS])[band]
    high = np.array([b[1] for b in AGE_BANDS])[band]
    age_days = ((low + rng.random(size) * (high - low)) * 365.25).astype(np.int64)
    generation = np.where(age_days >= OLDER_FROM_DAYS, 0, np.where(age_days < YOUNGER_TO_DAYS, 2, 1))
    return {
        "female": (rng.random(size) < FEMALE_SHARE).tolist(),
        "age_days": age_days.tolist(),
        "male": _names_of(rng, lex.male_w, generation).tolist(),
        "female_name": _names_of(rng, lex.female_w, generation).tolist(),
        # Fathers are a generation older than their children.
        "father": _names_of(rng, lex.male_w, np.maximum(generation - 1, 0)).tolist(),
        "surname": rng.choice(len(names.SURNAMES), size=size, p=lex.surname_w).tolist(),
        "city": rng.choice(len(CITIES), size=size, p=lex.city_w).tolist(),
        "u": rng.random((size, UNIFORMS)).tolist(),
    }


def _names_of(rng: np.random.Generator, weights: np.ndarray, generation: np.ndarray) -> np.ndarray:
    """A name index per guest, drawn from the weights of the guest's generation."""
    picks = np.empty(len(generation), dtype=np.int64)
    for g in range(3):
        mask = generation == g
        picks[mask] = rng.choice(weights.shape[1], size=int(mask.sum()), p=weights[g])
    return picks


def joined_at(anchor: date, index: int, population: int, u: float) -> datetime:
    """Sign-up time: density grows linearly towards the anchor, and ids follow sign-up order."""
    fraction = math.sqrt((index + u) / max(population, 1))
    day = anchor - timedelta(days=HISTORY_DAYS * (1 - fraction) + 1)
    return datetime.combine(day, time(5)) + timedelta(seconds=int(u * 13 * 3600))


def build_chunk(ctx: DemoContext, lex: Lexicon, chunk: int, start: int, size: int, first_id: int,
                population: int, writer: PersonRows) -> Batch:
    draws = draw_chunk(ctx, lex, chunk, size)
    batch = Batch()
    for j in range(size):
        index = start + j
        u = draws["u"][j]
        writer.person(batch, customer_id=first_id + index, index=index, u=u,
                      female=draws["female"][j], age_days=draws["age_days"][j],
                      first=draws["male"][j] if not draws["female"][j] else draws["female_name"][j],
                      father=draws["father"][j], surname=draws["surname"][j], city=draws["city"][j],
                      created=joined_at(ctx.anchor, index, population, u[0]))
    return batch


@dataclass(frozen=True)
class Recipe:
    """Everything a chunk depends on; plain data, so a worker process can rebuild any chunk from it."""

    seed: int
    customers: int
    anchor: date
    first_id: int
    chunk_size: int
    owners: dict[str, tuple[int, int]]
    tags: dict[str, int]

    @property
    def population(self) -> int:
        return people_count(self.customers)


_WORKSHOP: list[tuple[Recipe, Lexicon, PersonRows]] = []   # this process's tools for the current recipe


def generate(recipe: Recipe, chunk: int) -> Batch:
    """The rows of chunk number ``chunk``: a pure function of the recipe."""
    if not _WORKSHOP or _WORKSHOP[0][0] != recipe:
        lex = Lexicon.build()
        _WORKSHOP[:] = [(recipe, lex, PersonRows(recipe.anchor, lex.keys, recipe.owners, recipe.tags))]
    _, lex, writer = _WORKSHOP[0]
    ctx = DemoContext(seed=recipe.seed, customers=recipe.customers, anchor=recipe.anchor, password="")
    start = chunk * recipe.chunk_size
    size = min(recipe.chunk_size, recipe.population - start)
    return build_chunk(ctx, lex, chunk, start, size, recipe.first_id, recipe.population, writer)


def batches(recipe: Recipe, first_chunk: int) -> Iterator[tuple[int, Batch]]:
    """Chunks in order. Many chunks are generated in a second process, one ahead of the loader,
    so the two cores generate and write at the same time; memory stays two chunks."""
    chunks = range(first_chunk, math.ceil(recipe.population / recipe.chunk_size))
    if len(chunks) < PIPELINE_FROM:
        yield from ((chunk, generate(recipe, chunk)) for chunk in chunks)
        return
    # spawn, not fork: a forked child would share the parent's open database connection.
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        ahead: deque[tuple[int, Future[Batch]]] = deque()
        for chunk in chunks:
            ahead.append((chunk, pool.submit(generate, recipe, chunk)))
            if len(ahead) > 1:
                done, future = ahead.popleft()
                yield done, future.result()
        while ahead:
            done, future = ahead.popleft()
            yield done, future.result()


def run(ctx: DemoContext) -> dict[str, int]:
    # Imported here: the generator must stay importable in a worker process where Django is not set up.
    from clientbase.demo.staff import tag_ids, team_owners

    recipe = Recipe(ctx.seed, ctx.customers, ctx.anchor, int(ctx.resume.get("first_id") or next_customer_id()),
                    CHUNK, team_owners(), tag_ids())
    counts: Counter[str] = Counter(ctx.resume.get("counts", {}))
    chunks = math.ceil(recipe.population / CHUNK)
    with bulk_session():
        for chunk, batch in batches(recipe, int(ctx.resume.get("next_chunk", 0))):
            counts.update({table: len(rows) for table, rows in batch.rows.items()})
            load(batch)
            ctx.checkpoint({"first_id": recipe.first_id, "next_chunk": chunk + 1, "counts": dict(counts)})
            if chunks > 1:
                ctx.log(f"    people: {min((chunk + 1) * CHUNK, recipe.population):,} of {recipe.population:,}")
    sync_customer_ids()
    return dict(counts)
