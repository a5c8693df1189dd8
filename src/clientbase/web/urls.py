from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from clientbase.customers import views as customer_views


def _domain_pages() -> list[URLPattern | URLResolver]:
    """Mount ``clientbase.<app>.urls`` at ``/<app>/`` for every domain app that has pages."""
    found: list[URLPattern | URLResolver] = []
    for app in settings.DOMAIN_APPS:
        if find_spec(f"clientbase.{app}.urls") is not None:
            found.append(path(f"{app}/", include(import_module(f"clientbase.{app}.urls"))))
    return found


urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    *_domain_pages(),
    path("", customer_views.search, name="home"),
]
