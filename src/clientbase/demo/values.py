"""Pure helpers that turn numbers into valid-looking identifiers; no database, no randomness."""

_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya",
}

# Mobile prefixes of the big operators; every one is valid for phonenumbers' RU metadata.
MOBILE_PREFIXES: tuple[str, ...] = tuple(str(p) for p in (
    *range(900, 930), *range(931, 940), *range(950, 970), *range(977, 978), *range(980, 1000)))
_MOBILE_SPACE = len(MOBILE_PREFIXES) * 10_000_000
# An odd multiplier coprime with the space scatters consecutive customers over the whole range.
_MOBILE_STEP = 2_654_435_761


def translit(text: str) -> str:
    """Passport-style latin spelling, lower case, letters only: «Фёдор» → ``fedor``."""
    return "".join(_TRANSLIT.get(ch, ch if ch.isascii() and ch.isalnum() else "") for ch in text.lower())


def mobile_number(index: int) -> str:
    """A distinct valid Russian mobile number (E.164) for every index below ~750 million."""
    slot = (index * _MOBILE_STEP + 48_611_937) % _MOBILE_SPACE
    prefix, rest = divmod(slot, 10_000_000)
    return f"+7{MOBILE_PREFIXES[prefix]}{rest:07d}"


def spelled_phone(e164: str, style: int) -> str:
    """The number as a person would type it: ``8 (916) 123-45-67``, ``+7 916 123 45 67`` …"""
    d = e164[2:]
    forms = (e164, f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", f"+7 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}",
             f"8{d}", f"+7 ({d[:3]}) {d[3:6]}-{d[6:]}")
    return forms[style % len(forms)]


def inn_check_digit(digits: str) -> str:
    """Control digit of a 10-digit legal-entity INN (weights fixed by the Federal Tax Service)."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def company_inn(region: str, serial: int) -> str:
    """A 10-digit INN with a valid check digit: region, tax office, serial, control digit."""
    body = f"{region}{(serial * 37) % 100:02d}{serial % 100_000:05d}"
    return body + inn_check_digit(body)


def inn_is_valid(inn: str) -> bool:
    return len(inn) == 10 and inn.isdigit() and inn_check_digit(inn[:9]) == inn[9]


def company_ogrn(region: str, year: int, serial: int) -> str:
    """A 13-digit OGRN: sign 1, year, region, serial, and the remainder check digit."""
    body = f"1{year % 100:02d}{region}{serial % 10_000_000:07d}"
    return body + str(int(body) % 11 % 10)


def loyalty_card(index: int) -> str:
    """A 13-digit card number printed on the chain's plastic cards, distinct per index."""
    return f"77{(index * 7_919 + 100_003) % 10**11:011d}"
