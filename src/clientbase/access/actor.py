"""Who is doing something: a staff user, maybe through an API token, over some channel."""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from clientbase.access import rules
from clientbase.access.models import ApiToken


@dataclass
class Actor:
    user: AbstractBaseUser | AnonymousUser | None
    role: str | None = None
    team_id: int | None = None
    token: ApiToken | None = None
    channel: str = "web"
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def sees_all(self) -> bool:
        return rules.sees_all_customers(self.role)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def describe(self) -> str:
        who = getattr(self.user, "username", None) or "system"
        return f"{who} via token {self.token.prefix}" if self.token else who


def actor_for_user(user: AbstractBaseUser | AnonymousUser, *, channel: str = "web",
                   token: ApiToken | None = None) -> Actor:
    staff = getattr(user, "staff", None)
    role = staff.role if staff else ("admin" if getattr(user, "is_superuser", False) else None)
    team_id = staff.team_id if staff else None
    scopes = rules.effective_scopes(role, token.scopes if token else None)
    return Actor(user=user, role=role, team_id=team_id, token=token, channel=channel, scopes=scopes)


SYSTEM = Actor(user=None, role="admin", channel="system", scopes=frozenset(rules.SCOPES))
