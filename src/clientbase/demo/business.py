"""The simulated business: «Кофейня на районе», a coffee-shop chain in several Russian cities.

Later stages (stores, orders, loyalty) read the chain, its cities and teams from here.
"""

from dataclasses import dataclass

CHAIN_NAME = "Кофейня на районе"
DEMO_SOURCE = "demo"


@dataclass(frozen=True)
class City:
    name: str
    weight: float          # share of the chain's customers
    time_zone: str         # IANA name; contact windows are kept in the customer's zone
    team: str              # the sales team (R9.1) that owns customers of this city
    phone_codes: tuple[str, ...]   # landline area codes, for company offices
    inn_region: str        # first two digits of an INN issued there


CITIES: tuple[City, ...] = (
    City("Москва", 0.36, "Europe/Moscow", "Москва", ("495", "499"), "77"),
    City("Санкт-Петербург", 0.19, "Europe/Moscow", "Санкт-Петербург", ("812",), "78"),
    City("Казань", 0.09, "Europe/Moscow", "Регионы", ("843",), "16"),
    City("Нижний Новгород", 0.07, "Europe/Moscow", "Регионы", ("831",), "52"),
    City("Екатеринбург", 0.10, "Asia/Yekaterinburg", "Регионы", ("343",), "66"),
    City("Новосибирск", 0.08, "Asia/Novosibirsk", "Регионы", ("383",), "54"),
    City("Краснодар", 0.06, "Europe/Moscow", "Регионы", ("861",), "23"),
    City("Самара", 0.05, "Europe/Samara", "Регионы", ("846",), "63"),
)

TEAMS: tuple[str, ...] = ("Москва", "Санкт-Петербург", "Регионы")


@dataclass(frozen=True)
class StaffMember:
    username: str
    role: str
    team: str | None
    first_name: str
    last_name: str


# Every demo user gets the same generated password (kept in demo.json, never in git).
STAFF: tuple[StaffMember, ...] = (
    StaffMember("admin", "admin", None, "Анна", "Белова"),
    StaffMember("marketer", "marketer", None, "Ксения", "Орлова"),
    StaffMember("manager_msk", "manager", "Москва", "Дмитрий", "Соколов"),
    StaffMember("manager_spb", "manager", "Санкт-Петербург", "Полина", "Зайцева"),
    StaffMember("manager_regions", "manager", "Регионы", "Тимур", "Галиев"),
    StaffMember("support", "support", None, "Игорь", "Лебедев"),
)
# Customers of a team are owned by its manager.
TEAM_OWNERS: dict[str, str] = {"Москва": "manager_msk", "Санкт-Петербург": "manager_spb",
                               "Регионы": "manager_regions"}

# Custom fields (R1.4) the chain defined for itself.
CUSTOM_FIELDS: tuple[dict[str, object], ...] = (
    {"key": "favourite_drink", "label": "Любимый напиток", "type": "choice", "applies_to": "person",
     "choices": ["Эспрессо", "Американо", "Капучино", "Латте", "Флэт уайт", "Раф", "Какао", "Чай"],
     "position": 10},
    {"key": "tshirt_size", "label": "Размер футболки", "type": "choice", "applies_to": "person",
     "choices": ["XS", "S", "M", "L", "XL", "XXL"], "position": 20},
    {"key": "allergies", "label": "Аллергии", "type": "text", "applies_to": "person", "position": 30},
    {"key": "photo_consent", "label": "Согласие на фото", "type": "bool", "applies_to": "person",
     "position": 40},
    {"key": "employees", "label": "Кол-во сотрудников", "type": "number", "applies_to": "company",
     "position": 50},
)

TAGS: tuple[str, ...] = ("vip", "student", "pensioner", "blogger", "family", "b2b", "catering")


def company_count(total: int) -> int:
    """How many of ``total`` customer profiles are B2B accounts: a few dozen per 5,000."""
    if total < 20:
        return 0
    return max(2, round(total * 0.008))
