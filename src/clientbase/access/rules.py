"""Pure access decisions (no ORM)."""

SCOPES: dict[str, str] = {
    "customers:read": "Read customers, their history and custom field definitions",
    "customers:write": "Create and change customers",
    "events:write": "Send events",
    "orders:read": "Read orders, returns, the catalogue and per-customer figures",
    "orders:write": "Create orders, change their status, record returns, edit the catalogue",
    "segments:write": "Create, change and refresh segments",
    "export": "Export customers, orders and figures to CSV or Excel",
    "admin": "Administer definitions, users and tokens",
}

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset(SCOPES),
    "marketer": frozenset({"customers:read", "customers:write", "events:write", "orders:read", "segments:write"}),
    "manager": frozenset({"customers:read", "customers:write", "events:write", "orders:read", "orders:write"}),
    "support": frozenset({"customers:read", "customers:write", "orders:read"}),
}

# Roles whose members see every customer; the rest see only their own team's (R9.1).
ROLES_SEEING_ALL = frozenset({"admin", "marketer", "support"})


def sees_all_customers(role: str | None) -> bool:
    return role in ROLES_SEEING_ALL


def effective_scopes(role: str | None, token_scopes: list[str] | None) -> frozenset[str]:
    """A token can narrow what its user may do, never widen it."""
    allowed = ROLE_SCOPES.get(role or "", frozenset())
    if token_scopes is None:
        return allowed
    return allowed & frozenset(token_scopes)
