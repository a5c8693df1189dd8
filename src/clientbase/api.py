"""The REST API (R10.2): one NinjaAPI, one router per domain, errors as JSON with a field path."""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from clientbase.access.actor import Actor, actor_for_user
from clientbase.access.services import authenticate_token
from clientbase.core.errors import DomainValidationError, MergedAway, NotFound, PermissionDenied


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cb_…``: a token narrows its user's scopes."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        api_token = authenticate_token(token)
        if api_token is None:
            return None
        return actor_for_user(api_token.user, channel="api", token=api_token)


class SessionAuth(APIKeyCookie):
    """The logged-in web user (CSRF-checked, as ninja does for cookie auth)."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        # No logged-in session, nothing to forge a request with: skip the CSRF check, so a request whose
        # bearer token was wrong gets 401, not "CSRF check Failed". A session's requests are checked.
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        if request.user.is_authenticated:
            return actor_for_user(request.user, channel="web")
        return None


api = NinjaAPI(
    title="clientbase API",
    version="1",
    description=(
        "Customer profiles, identifiers and history. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `clientbase createuser NAME --role ROLE --token`) or a logged-in session. "
        "Errors are JSON: `{\"errors\": [{\"path\": \"field.sub\", \"message\": \"…\"}]}`."
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
)


def errors_response(request: HttpRequest, status: int, errors: list[dict[str, str]]) -> HttpResponse:
    return api.create_response(request, {"errors": errors}, status=status)


@api.exception_handler(DomainValidationError)
def on_validation(request: HttpRequest, exc: DomainValidationError) -> HttpResponse:
    return errors_response(request, 422, [{"path": e.path, "message": e.message} for e in exc.errors])


@api.exception_handler(MergedAway)
def on_merged_away(request: HttpRequest, exc: MergedAway) -> HttpResponse:
    # 409: the request was well formed, the customer's state refuses it; the survivor is named for a retry.
    return api.create_response(request, {"errors": [{"path": e.path, "message": e.message} for e in exc.errors],
                                         "merged_into": exc.survivor_id}, status=409)


@api.exception_handler(NinjaValidationError)
def on_schema_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        location: list[Any] = list(error.get("loc", []))
        # ninja prefixes the parameter source and name ("body", "payload"); the client cares about the field.
        if location and location[0] in {"body", "query", "path"}:
            location = location[2:] if len(location) > 2 else location[1:]
        errors.append({"path": ".".join(str(p) for p in location), "message": error.get("msg", "Invalid value")})
    return errors_response(request, 422, errors)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return errors_response(request, 413, [{"path": "", "message": f"The request body is larger than {limit} bytes "
                                           "(CLIENTBASE_MAX_BODY_MB): send the events in smaller batches."}])


@api.exception_handler(NotFound)
def on_not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    # The message names what was asked for (the caller's own input), never what exists.
    return errors_response(request, 404, [{"path": "", "message": f"Not found: {exc}"}])


@api.exception_handler(PermissionDenied)
def on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return errors_response(request, 403, [{"path": "", "message": str(exc)}])


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return errors_response(request, 401, [{"path": "", "message": "Authentication required: a bearer token or a session."}])


def require(request: HttpRequest, scope: str) -> Actor:
    """The authenticated actor, if it holds ``scope``; PermissionDenied otherwise."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    if not actor.has_scope(scope):
        raise PermissionDenied(f"This needs the {scope!r} scope.")
    return actor


def _register_routers() -> None:
    """Mount ``clientbase.<app>.api.router`` of every domain app that has one."""
    import importlib
    import importlib.util

    from django.conf import settings

    for app in settings.DOMAIN_APPS:
        if importlib.util.find_spec(f"clientbase.{app}.api") is None:
            continue
        module = importlib.import_module(f"clientbase.{app}.api")
        api.add_router("/", module.router)


_register_routers()
