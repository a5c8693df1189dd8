"""Import columns (R10.3): which header means which field, and strict parsing of each cell.

Pure functions. A cell is either parsed exactly or refused with a reason; nothing is coerced
silently (a phone typed as a number is read as its digits, which is what Excel did to it; a date
written ``01/05/1990`` is refused, because it is the 1st of May in Moscow and the 5th of January in Ohio).
"""

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from clientbase.core.text import search_key

# Known headers, in the search_key form (lower case, ё→е, punctuation as spaces).
ALIASES: dict[str, tuple[str, ...]] = {
    "key": ("код", "код клиента", "id", "id клиента", "ключ", "key", "client id", "customer id", "клиент id",
            "номер клиента", "client code"),
    "last_name": ("фамилия", "last name", "lastname", "surname", "family name"),
    "first_name": ("имя", "first name", "firstname", "given name"),
    "middle_name": ("отчество", "middle name", "patronymic"),
    "full_name": ("фио", "ф и о", "full name", "name", "клиент", "имя клиента", "customer", "client",
                  "покупатель"),
    "phone": ("телефон", "тел", "моб телефон", "мобильный", "мобильный телефон", "сотовый", "номер телефона",
              "phone", "mobile", "phone number", "mobile phone", "cell", "телефоны", "phones"),
    "email": ("e mail", "email", "почта", "эл почта", "электронная почта", "mail", "емейл", "имейл"),
    "birth_date": ("дата рождения", "др", "день рождения", "birthday", "birth date", "date of birth", "dob",
                   "birthdate"),
    "gender": ("пол", "gender", "sex"),
    "city": ("город", "city", "town"),
    "address": ("адрес", "address"),
    "card": ("карта", "номер карты", "дисконтная карта", "карта лояльности", "card", "card number",
             "loyalty card"),
    "notes": ("комментарий", "примечание", "заметки", "comment", "comments", "notes", "note"),
    "phone_label": ("тип", "тип телефона", "type", "label", "описание"),
    "contract": ("договор", "номер договора", "contract", "contract number", "номер"),
    "contract_date": ("дата договора", "contract date", "дата"),
    # Orders
    "order_id": ("номер заказа", "заказ", "order", "order id", "order number", "чек", "номер чека"),
    "date": ("дата", "дата заказа", "дата покупки", "order date", "date", "дата и время"),
    "sku": ("артикул", "sku", "код товара", "product code"),
    "product": ("товар", "наименование", "product", "product name", "item"),
    "category": ("категория", "category", "группа"),
    "quantity": ("количество", "кол во", "qty", "quantity"),
    "price": ("цена", "price", "unit price"),
    "cost": ("себестоимость", "cost", "unit cost"),
    "discount": ("скидка", "discount"),
    "store": ("магазин", "точка", "store", "shop"),
}

CUSTOMER_FIELDS = ("key", "last_name", "first_name", "middle_name", "full_name", "phone", "email",
                   "birth_date", "gender", "city", "address", "card", "notes")
SHEET_FIELDS = {
    "customers": CUSTOMER_FIELDS,
    "phones": ("key", "phone", "email", "phone_label"),
    "contracts": ("key", "contract", "contract_date"),
    "orders": ("order_id", "date", "sku", "product", "category", "quantity", "price", "cost", "discount",
               "store", "phone", "email", "card", "key"),
}
SHEET_ALIASES = {
    "customers": ("клиенты", "клиент", "покупатели", "clients", "customers", "контрагенты", "база"),
    "phones": ("телефоны", "phones", "контакты", "contacts"),
    "contracts": ("договоры", "договора", "contracts"),
    "orders": ("заказы", "продажи", "покупки", "orders", "sales", "purchases", "чеки"),
}
GENDERS = {"м": "male", "муж": "male", "мужской": "male", "m": "male", "male": "male",
           "ж": "female", "жен": "female", "женский": "female", "f": "female", "female": "female"}


# search_key drops diacritics (й -> и), so the tables are compared in that same form.
_ALIASES = {f: {search_key(a) for a in names} for f, names in ALIASES.items()}
_SHEET_ALIASES = {r: {search_key(a) for a in names} for r, names in SHEET_ALIASES.items()}
_GENDERS = {search_key(k): v for k, v in GENDERS.items()}


class CellError(ValueError):
    """A refused cell; the message is the reason shown in the report."""


def guess_sheet_role(name: str) -> str | None:
    key = search_key(name)
    for role, names in _SHEET_ALIASES.items():
        if key in names:
            return role
    return None


def guess_columns(header: list[str], role: str, overrides: dict[str, str | None]) -> dict[int, str]:
    """Column index -> field for ``role``'s fields; ``overrides`` (header -> field or None) win."""
    allowed = SHEET_FIELDS[role]
    result: dict[int, str] = {}
    for index, title in enumerate(header):
        if title in overrides:
            field = overrides[title]
            if field is not None:
                result[index] = field
            continue
        key = search_key(title)
        for field in allowed:
            if key in _ALIASES[field] and field not in result.values():
                result[index] = field
                break
    return result


def text(value: Any, max_length: int = 100) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CellError(f"Expected text, found {type(value).__name__} {value!r}.")
    value = value.strip()
    if len(value) > max_length:
        raise CellError(f"At most {max_length} characters (got {len(value)}).")
    return value


def code(value: Any) -> str:
    """A key, card or phone: text, or a whole number Excel stored as a number (never a fraction)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise CellError(f"Expected a code, found {value!r}.")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"{value!r} is a fraction, not a code or number.")
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    raise CellError(f"Expected text or a number, found {type(value).__name__}.")


_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")


def date(value: Any, *, today: dt.date | None = None) -> dt.date | None:
    """An Excel date cell, ``DD.MM.YYYY`` or ``YYYY-MM-DD``; anything else is refused with the reason."""
    today = today or dt.date.today()
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value.date()
    elif isinstance(value, dt.date):
        parsed = value
    elif isinstance(value, str):
        text_value = value.strip()
        dotted, iso = _DOTTED.match(text_value), _ISO.match(text_value)
        try:
            if dotted:
                parsed = dt.date(int(dotted[3]), int(dotted[2]), int(dotted[1]))
            elif iso:
                parsed = dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
            elif "/" in text_value:
                raise CellError(f"{value!r}: a date with slashes is ambiguous (day/month or month/day); "
                                "write DD.MM.YYYY or YYYY-MM-DD.")
            else:
                raise CellError(f"{value!r} is not a date (DD.MM.YYYY, YYYY-MM-DD or an Excel date cell).")
        except ValueError as exc:
            if isinstance(exc, CellError):
                raise
            raise CellError(f"{value!r} is not a real calendar date.") from exc
    else:
        raise CellError(f"{value!r} is a number, not a date (format the cell as a date).")
    if parsed.year < 1900 or parsed > today:
        raise CellError(f"{value!r} is out of range (1900 to today).")
    return parsed


def gender(value: Any) -> str:
    raw = text(value, 20)
    if not raw:
        return ""
    found = _gender_of(raw)
    if found is None:
        raise CellError(f"{raw!r} is not a gender (М/Ж, male/female).")
    return found


@functools.lru_cache(maxsize=256)
def _gender_of(raw: str) -> str | None:
    """A column holds a handful of spellings (М, Ж, муж.): each is looked up once."""
    return _GENDERS.get(search_key(raw))


def split_full_name(value: str) -> dict[str, str]:
    """«Петров Иван Сергеевич» -> last, first, middle: the Russian order of a full name."""
    parts = value.split()
    keys = ("last_name", "first_name", "middle_name")
    if len(parts) > 3:
        parts = [*parts[:2], " ".join(parts[2:])]
    return dict(zip(keys, parts, strict=False))


_WHOLE = re.compile(r"-?\d+")
_ROUBLES = re.compile(r"(\d+)(?:\.(\d{1,2}))?")


def integer(value: Any, *, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not a number.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise CellError(f"{value!r} is not a whole number.")
    if value < minimum:
        raise CellError(f"{value} is less than {minimum}.")
    return value


def money(value: Any) -> int:
    """Roubles as written (``250``, ``250,50``, ``250.5``) to kopecks; more than two decimals is refused."""
    if value in (None, ""):
        return 0
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not an amount.")
    if isinstance(value, int):
        return value * 100
    raw = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    match = _ROUBLES.fullmatch(raw)
    if match is None:
        raise CellError(f"{value!r} is not an amount in roubles (e.g. 250 or 250,50).")
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


_DOTTED_MOMENT = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})(?: ([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?)?")


def _dotted_moment(raw: str) -> dt.datetime | None:
    """``DD.MM.YYYY[ HH:MM[:SS]]`` as strptime reads it, without strptime (a tenth of an order import's
    time); None when it is not that or not a real moment, and strptime decides."""
    match = _DOTTED_MOMENT.fullmatch(raw)
    if match is None:
        return None
    day, month, year, hour, minute, second = (int(part) if part else 0 for part in match.groups())
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def moment(value: Any, tz: dt.tzinfo) -> dt.datetime:
    """An order time: an Excel date/time cell, ``DD.MM.YYYY[ HH:MM]`` or ISO; local to ``tz`` if naive."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str) and value.strip():
        raw = value.strip()
        dotted = _dotted_moment(raw)
        if dotted is not None:
            return dotted.replace(tzinfo=tz)
        for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
            try:
                parsed = dt.datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
        else:
            try:
                parsed = dt.datetime.fromisoformat(raw)
            except ValueError as exc:
                raise CellError(f"{value!r} is not a date and time (DD.MM.YYYY HH:MM or ISO).") from exc
    else:
        raise CellError("A date is required.")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


# A file repeats the same names, cities, dates, prices and SKUs on most of its rows: the importers parse each
# distinct text cell once through these. Only text is kept (numbers and dates from Excel cells are cheap to
# parse, and -0.0 == 0.0 would share an answer); a refused cell raises again each time (lru_cache keeps no
# exceptions). ``date`` refuses future dates and "today" only moves forward, so a date accepted once stays
# right to accept. An entry costs ~270 bytes: together under 25 MB, dropped when an import ends
# (``cells_remembered``) so a web worker does not keep them.
def _text_cells_cached[R](parse: Callable[..., R], size: int) -> Callable[..., R]:
    cached = functools.lru_cache(maxsize=size)(parse)
    _caches.append(cached)

    def parse_cell(value: Any, *args: Any) -> R:
        return cached(value, *args) if type(value) is str else parse(value, *args)
    return parse_cell


_caches: list[Any] = []
cached_text = _text_cells_cached(text, 16_384)
cached_date = _text_cells_cached(date, 32_768)
cached_money = _text_cells_cached(money, 32_768)
cached_code = _text_cells_cached(code, 16_384)
cached_integer = _text_cells_cached(lambda value, minimum: integer(value, minimum=minimum), 4096)


@contextlib.contextmanager
def cells_remembered() -> Iterator[None]:
    """For one import: the cached cells are dropped when it ends, however it ends."""
    try:
        yield
    finally:
        for cache in _caches:
            cache.cache_clear()
