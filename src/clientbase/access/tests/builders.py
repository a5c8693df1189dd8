from django.contrib.auth.models import User

from clientbase.access.actor import Actor, actor_for_user
from clientbase.access.services import create_staff_user, issue_token

_counter = iter(range(1, 10**9))


def make_user(*, role: str = "admin", team: str | None = None, username: str | None = None,
              password: str | None = "correct horse battery") -> User:
    if role == "manager" and team is None:
        team = "North"
    return create_staff_user(username or f"{role}{next(_counter)}", role=role, team=team, password=password)


def make_actor(*, role: str = "admin", team: str | None = None, channel: str = "web") -> Actor:
    user = make_user(role=role, team=team)
    user.refresh_from_db()
    return actor_for_user(user, channel=channel)


def make_token(*, role: str = "admin", team: str | None = None, scopes: list[str] | None = None) -> str:
    user = make_user(role=role, team=team)
    return issue_token(user, scopes=scopes)[1]
