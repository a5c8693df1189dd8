"""One generated guest → rows for customers, identifiers, important dates, tags and history.

``u`` is the row's list of uniforms; each decision reads its own column so that adding a new
decision at a new column never changes the ones already made (same seed, same people).
"""

from datetime import date, datetime, timedelta
from typing import Any

from clientbase.demo import names, phrases
from clientbase.demo.bulk import Batch, dumps, stamp
from clientbase.demo.business import CITIES, DEMO_SOURCE
from clientbase.demo.values import loyalty_card, mobile_number, spelled_phone, translit

(U_JOINED, U_BIRTH, U_PATRONYMIC, U_FAMILY, U_KIDS, U_KIDS_N, U_KID1, U_KID2, U_KID3, U_KIDAGE1, U_KIDAGE2,
 U_KIDAGE3, U_SPOUSE, U_SPOUSE_WHO, U_WEDDING, U_WEDDING_Y, U_HOBBY, U_LIFESTYLE, U_TEAM, U_MOTIVE, U_NOTE,
 U_ADDRESS, U_EMAIL, U_EMAIL_STYLE, U_TELEGRAM, U_INSTAGRAM, U_VK, U_MESSENGER, U_CARD, U_CHANNEL, U_WINDOW,
 U_DRINK, U_MILK, U_DESSERT, U_SYRUP, U_CUSTOM1, U_CUSTOM2, U_TAG1, U_TAG2, U_PHONE) = range(40)

# (upper age in years, [(status, share)]) — who is married at which age, roughly as in Russian surveys.
FAMILY_BY_AGE = (
    (23, (("single", 0.75), ("partner", 0.2), ("married", 0.05))),
    (30, (("single", 0.4), ("partner", 0.25), ("married", 0.3), ("divorced", 0.05))),
    (45, (("single", 0.15), ("partner", 0.12), ("married", 0.6), ("divorced", 0.13))),
    (60, (("single", 0.08), ("partner", 0.07), ("married", 0.65), ("divorced", 0.15), ("widowed", 0.05))),
    (200, (("single", 0.05), ("partner", 0.03), ("married", 0.6), ("divorced", 0.12), ("widowed", 0.2))),
)
KIDS_BY_STATUS = {"married": 0.75, "divorced": 0.65, "widowed": 0.8, "partner": 0.25, "single": 0.08, "": 0.3}
EMAIL_DOMAINS = (("mail.ru", 0.35), ("yandex.ru", 0.3), ("gmail.com", 0.2), ("bk.ru", 0.05), ("list.ru", 0.04),
                 ("inbox.ru", 0.03), ("rambler.ru", 0.03))
CHANNEL_WEIGHTS = {"telegram": 3.0, "whatsapp": 2.0, "email": 2.0, "sms": 2.0, "phone": 1.0, "vk": 0.5,
                   "instagram": 0.5, "viber": 0.5}
CONTACT_DAYS = ([1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6, 7], [6, 7])
CONTACT_HOURS = (("10:00:00", "14:00:00"), ("09:00:00", "18:00:00"), ("12:00:00", "20:00:00"),
                 ("18:00:00", "21:00:00"))
TSHIRT_BY_GENDER = {True: ("XS", "S", "S", "M", "M", "L"), False: ("M", "L", "L", "XL", "XL", "XXL")}
CUSTOM_DRINKS = {"эспрессо": "Эспрессо", "американо": "Американо", "капучино": "Капучино", "латте": "Латте",
                 "флэт уайт": "Флэт уайт", "раф": "Раф", "какао": "Какао", "чай улун": "Чай", "пуэр": "Чай"}


def pick(seq: Any, u: float) -> Any:
    return seq[min(int(u * len(seq)), len(seq) - 1)]


def weighted(pairs: Any, u: float) -> Any:
    for value, share in pairs:
        if u < share:
            return value
        u -= share
    return pairs[-1][0]


def given(u: float, share: float) -> float | None:
    """``u`` rescaled to [0, 1) when the event of probability ``share`` happens, else None."""
    return u / share if u < share else None


class PersonRows:
    """Turns one guest's draws into rows; holds the lookups every row needs."""

    def __init__(self, anchor: date, keys: dict[str, str], owners: dict[str, tuple[int, int]],
                 tags: dict[str, int]) -> None:
        self.anchor = anchor
        self.keys = keys
        self.owners = owners
        self.tags = tags
        self.latin = {w: translit(w) for w in keys}
        self.twelve_years_ago = (anchor - timedelta(days=12 * 365)).isoformat()

    def person(self, batch: Batch, *, customer_id: int, index: int, u: list[float], female: bool, age_days: int,
               first: int, father: int, surname: int, city: int, created: datetime) -> None:
        first_name = names.FEMALE[first] if female else names.MALE[first][0]
        middle = names.MALE[father][2 if female else 1] if u[U_PATRONYMIC] < 0.95 else ""
        last = names.feminine_surname(names.SURNAMES[surname]) if female else names.SURNAMES[surname]
        born = self.anchor - timedelta(days=age_days)
        age = age_days // 365
        place = CITIES[city]
        status = self._family(age, u)
        children = self._children(born, status, u)
        team_id, owner_id = self.owners[place.team]
        joined = stamp(created)
        key = " ".join(self.keys[w] for w in (last, first_name, middle) if w)
        identifiers, preferred, fallback = self._identifiers(customer_id, index, u, first_name, last, joined)
        window = given(u[U_WINDOW], 0.15)
        prefs = self._preferences(u)
        batch.add("customers", (
            customer_id, "person", first_name, middle, last,
            born.isoformat() if u[U_BIRTH] < 0.88 else None, "female" if female else "male", status,
            dumps(children), self._hobbies(u), self._maybe(phrases.LIFESTYLE, u[U_LIFESTYLE], 0.45),
            self._team(place.name, female, u[U_TEAM]), dumps(prefs),
            self._maybe(phrases.MOTIVATION, u[U_MOTIVE], 0.55), "", "", "", "", self._address(place.name, u),
            place.name, place.time_zone, self._maybe(phrases.NOTES, u[U_NOTE], 0.04), preferred, dumps(fallback),
            dumps(pick(CONTACT_DAYS, window) if window is not None else []),
            pick(CONTACT_HOURS, window)[0] if window is not None else None,
            pick(CONTACT_HOURS, window)[1] if window is not None else None,
            dumps(self._custom(u, female, prefs)), owner_id, team_id, key, joined, joined))
        batch.extend("identifiers", identifiers)
        batch.extend("important_dates", self._dates(customer_id, born, u, female, status, children))
        batch.extend("customer_tags", [(customer_id, self.tags[t]) for t in self._tags(age, children, u)])
        batch.add("profile_changes", (customer_id, "created", None, dumps(f"{last} {first_name} {middle}".strip()),
                                      None, "system", DEMO_SOURCE, joined))

    @staticmethod
    def _maybe(seq: Any, u: float, share: float) -> str:
        v = given(u, share)
        return pick(seq, v) if v is not None else ""

    @staticmethod
    def _family(age: int, u: list[float]) -> str:
        v = given(u[U_FAMILY], 0.85)   # a status nobody asked about stays empty
        if v is None:
            return ""
        shares = next(table for limit, table in FAMILY_BY_AGE if age < limit)
        return str(weighted(shares, v))

    def _children(self, born: date, status: str, u: list[float]) -> list[dict[str, str]]:
        if (self.anchor - born).days < 22 * 365 or given(u[U_KIDS], KIDS_BY_STATUS[status]) is None:
            return []
        count = 1 if u[U_KIDS_N] < 0.5 else 2 if u[U_KIDS_N] < 0.88 else 3
        result = []
        for k in range(count):
            g = u[U_KID1 + k]
            name = pick(names.GIRLS if g < 0.5 else names.BOYS, (g * 2) % 1)
            birth = born + timedelta(days=int((21 + u[U_KIDAGE1 + k] * 17) * 365.25))
            if birth < self.anchor:
                result.append({"name": name, "birth_date": birth.isoformat()})
        return result

    @staticmethod
    def _hobbies(u: list[float]) -> str:
        v = given(u[U_HOBBY], 0.65)
        if v is None:
            return ""
        count = 1 + int(v * 3) % 3
        picks = dict.fromkeys(pick(phrases.HOBBIES, (v * (7 + 13 * i)) % 1) for i in range(count))
        return ", ".join(picks).capitalize()

    @staticmethod
    def _team(city: str, female: bool, u: float) -> str:
        v = given(u, 0.12 if female else 0.4)
        if v is None:
            return ""
        return str(pick(phrases.TEAMS_BY_CITY[city] if v < 0.7 else phrases.TEAMS_EVERYWHERE, (v * 10) % 1))

    @staticmethod
    def _preferences(u: list[float]) -> dict[str, str]:
        prefs: dict[str, str] = {}
        if (v := given(u[U_DRINK], 0.9)) is not None:
            prefs["drink"] = pick(phrases.DRINKS, v)
            prefs["size"] = pick(phrases.SIZES, (v * 10) % 1)
        if (v := given(u[U_MILK], 0.55)) is not None:
            prefs["milk"] = pick(phrases.MILKS, v)
        if (v := given(u[U_DESSERT], 0.5)) is not None:
            prefs["dessert"] = pick(phrases.DESSERTS, v)
        if (v := given(u[U_SYRUP], 0.25)) is not None:
            prefs["syrup"] = pick(phrases.SYRUPS, v)
        return prefs

    @staticmethod
    def _address(city: str, u: list[float]) -> str:
        v = given(u[U_ADDRESS], 0.3)
        if v is None:
            return ""
        return f"г. {city}, {pick(phrases.STREETS, v)}, д. {1 + int(v * 997) % 120}, кв. {1 + int(v * 7919) % 300}"

    @staticmethod
    def _custom(u: list[float], female: bool, prefs: dict[str, str]) -> dict[str, Any]:
        custom: dict[str, Any] = {}
        if u[U_CUSTOM1] < 0.45 and prefs.get("drink") in CUSTOM_DRINKS:
            custom["favourite_drink"] = CUSTOM_DRINKS[prefs["drink"]]
        if (v := given((u[U_CUSTOM1] * 10) % 1, 0.2)) is not None:
            custom["tshirt_size"] = pick(TSHIRT_BY_GENDER[female], v)
        if (v := given(u[U_CUSTOM2], 0.06)) is not None:
            custom["allergies"] = pick(phrases.ALLERGIES, v)
        if (v := given((u[U_CUSTOM2] * 10) % 1, 0.35)) is not None:
            custom["photo_consent"] = v < 0.8
        return custom

    def _tags(self, age: int, children: list[dict[str, str]], u: list[float]) -> list[str]:
        tags = []
        if u[U_TAG1] < 0.02:
            tags.append("vip")
        elif u[U_TAG1] > 0.994:
            tags.append("blogger")
        if age <= 23 and u[U_TAG2] < 0.45:
            tags.append("student")
        if age >= 60 and u[U_TAG2] < 0.5:
            tags.append("pensioner")
        young = any(c["birth_date"] > self.twelve_years_ago for c in children)
        if young and u[U_TAG2] > 0.6:
            tags.append("family")
        return tags

    def _dates(self, customer_id: int, born: date, u: list[float], female: bool, status: str,
               children: list[dict[str, str]]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        if u[U_BIRTH] < 0.88:
            rows.append((customer_id, "birthday", "self", born.isoformat(), ""))
        if status == "married" and (v := given(u[U_SPOUSE], 0.5)) is not None:
            spouse = pick(names.MALE, v)[0] if female else pick(names.FEMALE, v)
            offset = int((u[U_SPOUSE_WHO] - 0.4) * 8 * 365)
            rows.append((customer_id, "birthday", f"{'муж' if female else 'жена'} {spouse}",
                         (born + timedelta(days=offset)).isoformat(), ""))
        if status == "married" and (v := given(u[U_WEDDING], 0.45)) is not None:
            wedding = born + timedelta(days=int((22 + u[U_WEDDING_Y] * 15) * 365.25))
            if wedding < self.anchor:
                rows.append((customer_id, "anniversary", "self", wedding.isoformat(), "Годовщина свадьбы"))
        for child in children:
            who = "дочь" if child["name"] in names.GIRLS else "сын"
            rows.append((customer_id, "birthday", f"{who} {child['name']}", child["birth_date"], ""))
        return rows

    def _identifiers(self, customer_id: int, index: int, u: list[float], first: str, last: str,
                     joined: str) -> tuple[list[tuple[Any, ...]], str, list[str]]:
        phone = mobile_number(index)
        rows = [(customer_id, "phone", phone, spelled_phone(phone, int(u[U_PHONE] * 50)), u[U_PHONE] < 0.7,
                 "мобильный", DEMO_SOURCE, joined)]
        f, s, tail = self.latin[first], self.latin[last], str(index + 1)
        channels = ["sms", "phone"]
        if (v := given(u[U_EMAIL], 0.6)) is not None:
            local = pick((f"{f}.{s}", f"{s}.{f}", f"{f[0]}.{s}", f"{s}_{f[0]}", f"{f}{s}"), v)
            domain = weighted(EMAIL_DOMAINS, u[U_EMAIL_STYLE])
            rows.append((customer_id, "email", f"{local}{tail}@{domain}", f"{local}{tail}@{domain}", False, "",
                         DEMO_SOURCE, joined))
            channels.append("email")
        handles = (("telegram", U_TELEGRAM, 0.35, f"{f}_{s}{tail}"), ("instagram", U_INSTAGRAM, 0.2, f"{f}.{tail}"),
                   ("vk", U_VK, 0.15, f"id{index * 7 + 1_000_003}"))
        for kind, column, share, handle in handles:
            if u[column] < share:
                rows.append((customer_id, kind, handle, f"@{handle}", False, "", DEMO_SOURCE, joined))
                channels.append(kind)
        if (v := given(u[U_MESSENGER], 0.3)) is not None:
            kind = "whatsapp" if v < 0.8 else "viber"
            rows.append((customer_id, kind, phone, phone, False, "", DEMO_SOURCE, joined))
            channels.append(kind)
        if u[U_CARD] < 0.4:
            card = loyalty_card(index)
            rows.append((customer_id, "card", card, card, True, "", DEMO_SOURCE, joined))
        preferred, fallback = self._channels(channels, u[U_CHANNEL])
        return rows, preferred, fallback

    @staticmethod
    def _channels(available: list[str], u: float) -> tuple[str, list[str]]:
        total = sum(CHANNEL_WEIGHTS[c] for c in available)
        preferred = str(weighted([(c, CHANNEL_WEIGHTS[c] / total) for c in available], u))
        rest = sorted((c for c in available if c != preferred), key=lambda c: -CHANNEL_WEIGHTS[c])
        return preferred, rest[: 1 + int(u * 10) % 2]
