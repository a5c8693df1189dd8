"""Django settings, read from ``CLIENTBASE_*`` environment variables.

Defaults give a working embedded mode: SQLite (WAL) in ``CLIENTBASE_HOME``
(``~/.clientbase`` unless set). ``CLIENTBASE_DATABASE_URL`` switches to PostgreSQL.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
HOME = Path(os.environ.get("CLIENTBASE_HOME", Path.home() / ".clientbase")).expanduser()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Secret from the environment, else one generated once and kept in the data folder (never in git)."""
    if key := os.environ.get("CLIENTBASE_SECRET_KEY"):
        return key
    HOME.mkdir(parents=True, exist_ok=True)
    path = HOME / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("CLIENTBASE_DEBUG", False)
ALLOWED_HOSTS = os.environ.get("CLIENTBASE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CLIENTBASE_CSRF_ORIGINS", "").split(",") if o]

# The domain apps, in dependency order; api.py and cli.py discover their routers and commands.
DOMAIN_APPS = ["access", "customers", "identity", "interactions", "sales", "loyalty", "analytics", "segments",
               "engagement"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "ninja",  # serves the API docs' Swagger UI from our own static files (no CDN at run time)
    "clientbase.core",
    "clientbase.access",
    "clientbase.customers",
    "clientbase.identity",
    "clientbase.interactions",
    "clientbase.sales",
    "clientbase.loyalty",
    "clientbase.analytics",
    "clientbase.segments",
    "clientbase.engagement",
    "clientbase.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "clientbase.urls"
WSGI_APPLICATION = "clientbase.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "clientbase.web.nav.nav",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("CLIENTBASE_DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend with a health check that costs no round trip on a sound connection: see its docstring.
        DATABASES["default"]["ENGINE"] = "clientbase.core.postgresql_backend"
    DATABASES["default"].setdefault("TEST", {})
    # No JIT compilation: our statements are short, but a bulk one over a table with no fresh statistics
    # (a merge round reading thirteen participant tables) is estimated expensive enough to be compiled,
    # and compiling took 250-300 ms where running took 20 ms. Options given in the URL are kept, after this
    # one (so a URL's own -c jit=on wins).
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join(filter(None, ["-c jit=off", _options.get("options", "")]))
    if test_name := os.environ.get("CLIENTBASE_TEST_DATABASE_NAME"):
        DATABASES["default"]["TEST"]["NAME"] = test_name
else:
    HOME.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "clientbase.core.sqlite_backend",  # queued writers: see its docstring
            "NAME": os.environ.get("CLIENTBASE_SQLITE_PATH", str(HOME / "clientbase.sqlite3")),
            # Each server thread keeps its connection: a new one parses the whole schema again on its first
            # statement, half the CPU of a single-event POST (bench/RESULTS.md, thirteenth session).
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                # IMMEDIATE: a write transaction takes the write lock at BEGIN, so two writers
                # queue on the busy timeout instead of failing with "database is locked" mid-way.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;"
                ),
            },
        }
    }

IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgresql_backend"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("CLIENTBASE_LANGUAGE", "en")
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("CLIENTBASE_TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("CLIENTBASE_STATIC_ROOT", HOME / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("CLIENTBASE_MEDIA_ROOT", HOME / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if _env_bool("CLIENTBASE_TESTING", False):
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# A request body held in memory (file uploads stream to disk and are not counted): a full event batch of
# 10,000 events is several megabytes, where Django's default allows 2.5.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("CLIENTBASE_MAX_BODY_MB", "32")) * 2**20

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("CLIENTBASE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Domain settings
CLIENTBASE_DEFAULT_REGION = os.environ.get("CLIENTBASE_DEFAULT_REGION", "RU")

# Outgoing mail (engagement's email channel): SMTP, configured from the environment. Kept out of the
# deprecated EMAIL_* settings (Django 6.1 moves to MAILERS) so the channel owns its connection.
CLIENTBASE_SMTP = {
    "host": os.environ.get("CLIENTBASE_SMTP_HOST", "127.0.0.1"),
    "port": int(os.environ.get("CLIENTBASE_SMTP_PORT", "25")),
    "username": os.environ.get("CLIENTBASE_SMTP_USER", ""),
    "password": os.environ.get("CLIENTBASE_SMTP_PASSWORD", ""),
    "use_tls": _env_bool("CLIENTBASE_SMTP_TLS", False),
    "timeout": int(os.environ.get("CLIENTBASE_SMTP_TIMEOUT", "20")),
}
CLIENTBASE_SMTP_FROM = os.environ.get("CLIENTBASE_SMTP_FROM", "clientbase@localhost")
# Absolute base for links in messages (unsubscribe, tracking), e.g. https://crm.example.com
CLIENTBASE_PUBLIC_URL = os.environ.get("CLIENTBASE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CLIENTBASE_LOG_LEVEL", "WARNING")},
}
