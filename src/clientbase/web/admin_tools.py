"""Admin helpers shared by the domain apps' admin.py files."""

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """View-only admin for data whose changes must go through the services.

    Profiles, identifiers and their history are written only by the services, which record who
    changed what (R1.5, R9.4); an admin edit would bypass that, so the admin only shows them.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
