"""Stage "staff": teams, demo users with one shared password, custom fields and tags."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from clientbase.access.models import StaffProfile, Team
from clientbase.customers.models import CustomFieldDefinition, Tag
from clientbase.customers.services import define_custom_field
from clientbase.demo.business import CUSTOM_FIELDS, STAFF, TAGS, TEAM_OWNERS, TEAMS
from clientbase.demo.stages import DemoContext


def run(ctx: DemoContext) -> dict[str, int]:
    with transaction.atomic():
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
        # One hash for all: hashing is deliberately slow and the demo users share the password.
        hashed = make_password(ctx.password)
        user_model = get_user_model()
        for member in STAFF:
            user, _ = user_model.objects.update_or_create(
                username=member.username,
                defaults={"first_name": member.first_name, "last_name": member.last_name,
                          "is_staff": member.role == "admin", "is_superuser": member.role == "admin",
                          "is_active": True, "password": hashed})
            StaffProfile.objects.update_or_create(
                user=user, defaults={"role": member.role, "team": teams[member.team] if member.team else None})
        created_fields = 0
        for spec in CUSTOM_FIELDS:
            if not CustomFieldDefinition.objects.filter(key=spec["key"]).exists():
                define_custom_field(dict(spec))
                created_fields += 1
        for name in TAGS:
            Tag.objects.get_or_create(name=name)
    return {"teams": len(teams), "users": len(STAFF), "custom_fields": created_fields}


def team_owners() -> dict[str, tuple[int, int]]:
    """Team name → (team id, id of the manager who owns that team's customers)."""
    user_model = get_user_model()
    users = dict(user_model.objects.filter(username__in=TEAM_OWNERS.values()).values_list("username", "id"))
    teams = dict(Team.objects.filter(name__in=TEAMS).values_list("name", "id"))
    return {name: (teams[name], users[TEAM_OWNERS[name]]) for name in TEAMS}


def tag_ids() -> dict[str, int]:
    return dict(Tag.objects.filter(name__in=TAGS).values_list("name", "id"))
