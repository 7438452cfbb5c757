"""Django settings, read from the environment in this one place and validated at start-up.

See README.md ("Configuration") for every variable. PORTAL_* values are read by the apps only
through portal.conf.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.csp import CSP

from portal import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.text("PORTAL_VAR_DIR") or BASE_DIR / "var")

PORTAL_ENV = env.choice("PORTAL_ENV", "local", ("local", "production"))
PRODUCTION = PORTAL_ENV == "production"

SECRET_KEY = env.local_secret(
    "SECRET_KEY", VAR_DIR / "secret_key", production=PRODUCTION, min_length=50
)
# Identity data (TIN digits, date of birth) is stored only as an HMAC under this key, which lives
# outside the database, so a copy of the database alone does not reveal it.
PORTAL_IDENTITY_KEY = env.local_secret(
    "PORTAL_IDENTITY_KEY", VAR_DIR / "identity_key", production=PRODUCTION
)
DEBUG = env.boolean("DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise env.ConfigError("DEBUG", "must be off when PORTAL_ENV=production")

ALLOWED_HOSTS = env.csv_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")
if not ALLOWED_HOSTS:
    raise env.ConfigError("ALLOWED_HOSTS", "must list the portal's host names in production")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_ratelimit",
    "django_tasks_db",
    "portal",
    "accounts",
    "security",
    "signin",
    "recovery",
    "enrollment",
    "online_profile",
    "support",
]

MIDDLEWARE = [
    "portal.request_log.RequestIdMiddleware",  # first, so every line and response carries it
    "portal.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.RefuseTraceMiddleware",
    "portal.middleware.ClientIPMiddleware",
    "portal.middleware.LimitStoreOutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.languages.CustomerLanguageMiddleware",  # a signed-in customer's record wins
    # Before the session timeout, which tells the customer why they were logged out.
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.SessionTimeoutMiddleware",
    "online_profile.middleware.ChallengeQuestionsResetMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "portal.middleware.NoStoreWhenSignedInMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "signin:login"
LOGIN_REDIRECT_URL = "profile:vehicles"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "portal.context_processors.lender",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env.url(
    "DATABASE_URL",
    ("sqlite", "postgres", "postgresql"),
    default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
)
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
except ValueError as exc:
    raise env.ConfigError("DATABASE_URL", f"is not a database URL ({exc})") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so
    # read-then-write transactions queue on the busy timeout instead of failing "database is
    # locked" (measured on 2 cores: 46-86 % of such transactions failed under 16 clients without
    # these). Connections persist like PostgreSQL's (conn_max_age above): opening one and running
    # its PRAGMAs on every request cost My Vehicles a fifth of its throughput (bench, 2 workers x
    # 4 threads: 600-656 requests/s at saturation with a new connection each time, 796-811
    # persistent).
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SILENCED_SYSTEM_CHECKS = ["security.W021"]  # see SECURE_HSTS_PRELOAD

# --- Cache, sessions, rate limits ---------------------------------------------------------------
REDIS_URL = env.url("REDIS_URL", ("redis", "rediss", "unix"))
if PRODUCTION and not REDIS_URL:
    # Several server processes must share one atomic store for limits and sessions.
    raise env.ConfigError("REDIS_URL", "must be set when PORTAL_ENV=production")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    # The embedded default runs one server process, so a process-local cache is shared by every
    # request it serves; django-ratelimit's checks flag it because it is not shared between
    # processes, which is exactly why production requires REDIS_URL.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]

# The header's and footer's rendered links, per language (templates/base.html): in each process's
# own memory, as they are the same in every process and a network round trip would cost more
# than rendering them.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
}

RATELIMIT_IP_META_KEY = "portal.net.client_ip_for_ratelimit"
RATELIMIT_VIEW = "security.ratelimits.too_many_attempts"
RATELIMIT_FAIL_OPEN = False

SESSION_COOKIE_NAME = "__Host-session"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = (
    12 * 60 * 60
)  # the absolute limit; the idle limit is PORTAL_SESSION_IDLE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_NAME = "__Host-csrftoken"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

# --- HTTPS and headers --------------------------------------------------------------------------
PORTAL_TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0, maximum=5)
if PORTAL_TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
# The load balancer's health check and Prometheus scrape each instance over loopback HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading commits the lender's whole domain, irreversibly for months: a decision for the
# lender's operations team, not a default (hence security.W021 is silenced below).
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# --- Passwords ----------------------------------------------------------------------------------
# One hasher per algorithm name: Django looks hashers up by name and the last one listed wins,
# so listing Django's own Argon2 hasher too would bypass the portal's (which also verifies any
# older "argon2" hash, reading its parameters from the hash itself).
PASSWORD_HASHERS = ["portal.hashers.PortalArgon2PasswordHasher"]
PORTAL_PASSWORD_MIN_LENGTH = 15
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "security.passwords.LengthValidator"},
    {"NAME": "security.passwords.SimilarityValidator"},
    {"NAME": "security.passwords.BlocklistValidator"},
    {"NAME": "security.passwords.StrengthValidator"},
]

# --- Email and text messages --------------------------------------------------------------------
PORTAL_OUTBOX_DIR = Path(env.text("PORTAL_OUTBOX_DIR") or VAR_DIR / "outbox")
# The outbox backends write files instead of delivering: right for a laptop, a benchmark or a
# demo, never for customers. Production refuses them unless this says it is such a demo.
_outbox_allowed = not PRODUCTION or env.boolean("PORTAL_ALLOW_OUTBOX", default=False)
_email_host = env.text("EMAIL_HOST")
if _email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env.integer("EMAIL_PORT", 587, minimum=1, maximum=65535),
                "username": env.text("EMAIL_HOST_USER"),
                "password": env.text("EMAIL_HOST_PASSWORD"),
                "use_tls": env.boolean("EMAIL_USE_TLS", default=True),
                "timeout": 10,
            },
        }
    }
elif _outbox_allowed:
    MAILERS = {"default": {"BACKEND": "portal.outbox.OutboxEmailBackend"}}
else:
    raise env.ConfigError(
        "EMAIL_HOST", "must be set when PORTAL_ENV=production (or PORTAL_ALLOW_OUTBOX=true)"
    )
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL") or "no-reply@portal.example"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PORTAL_SMS_BACKEND = env.text("SMS_BACKEND") or "portal.outbox.OutboxSmsBackend"
if not _outbox_allowed and PORTAL_SMS_BACKEND.rsplit(".", 1)[-1] in {
    "OutboxSmsBackend",
    "LocmemSmsBackend",
}:
    raise env.ConfigError(
        "SMS_BACKEND",
        "must name a text-message provider when PORTAL_ENV=production (or PORTAL_ALLOW_OUTBOX=true)",
    )

# Nothing is sent inside a request (its duration would tell who has an account): a message is a
# row written in the request's transaction (security.models.OutgoingMessage) and a task queued in
# the database when it commits; `manage.py deliver_messages`, run beside the web server, sends it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PORTAL_MESSAGE_POLL_SECONDS = 0.5  # how often an idle worker looks for work
PORTAL_MESSAGE_SWEEP_SECONDS = 60  # how often it re-queues what a stopped worker left behind
PORTAL_MESSAGE_LEASE_SECONDS = 60  # a delivery not finished by then is taken over by another
PORTAL_MESSAGE_MAX_ATTEMPTS = 5
PORTAL_MESSAGE_FIRST_RETRY_SECONDS = 10  # then 30, 90, 270: three times longer each time
PORTAL_MESSAGE_RETENTION_DAYS = 30

# --- The lender (white label) -------------------------------------------------------------------
PORTAL_LENDER_NAME = env.text("PORTAL_LENDER_NAME") or "Example Auto Finance"
PORTAL_SUPPORT_PHONE = env.text("PORTAL_SUPPORT_PHONE") or "1-800-555-0142"
PORTAL_SUPPORT_HOURS = (
    env.text("PORTAL_SUPPORT_HOURS")
    or "Monday to Friday 8 a.m. to 9 p.m., Saturday 9 a.m. to 5 p.m. ET"
)
# The header shows the lender's name as a wordmark unless a logo is given: a path under static/
# (e.g. brand/logo.svg) or an https:// address, whose origin is then added to SECURE_CSP.
PORTAL_LOGO_URL = env.text("PORTAL_LOGO_URL")
if "://" in PORTAL_LOGO_URL:
    PORTAL_LOGO_URL = env.url("PORTAL_LOGO_URL", ("https",))
    SECURE_CSP["img-src"].append("https://" + urlsplit(PORTAL_LOGO_URL).netloc)
PORTAL_ADMIN_PATH = env.text("PORTAL_ADMIN_PATH") or "support-console/"
# /.well-known/security.txt (RFC 9116): whom researchers contact, and until when that holds.
PORTAL_SECURITY_CONTACT = env.url(
    "PORTAL_SECURITY_CONTACT", ("mailto", "https", "tel")
) or "tel:" + "".join(c for c in PORTAL_SUPPORT_PHONE if c.isdigit() or c == "+")
PORTAL_SECURITY_TXT_EXPIRES = env.date("PORTAL_SECURITY_TXT_EXPIRES")
if not PORTAL_ADMIN_PATH.endswith("/") or PORTAL_ADMIN_PATH.startswith("/"):
    raise env.ConfigError("PORTAL_ADMIN_PATH", "must be a relative path ending in '/', e.g. staff/")

# --- Policy (see portal/conf.py for what each means) -------------------------------------------
PORTAL_SESSION_IDLE_SECONDS = 15 * 60
PORTAL_ENROLLMENT_IDLE_SECONDS = 15 * 60
PORTAL_VERIFY_MAX_FAILURES = 3
PORTAL_VERIFY_WINDOW_SECONDS = 24 * 60 * 60
# Per client IP; raise them only where many customers share one address (or for benchmarks).
_RATE = r"^\d+/\d*[smhd]$"
PORTAL_VERIFY_IP_RATE = env.pattern("PORTAL_VERIFY_IP_RATE", "20/h", _RATE, "e.g. 20/h")
PORTAL_LOGIN_IP_RATE = env.pattern("PORTAL_LOGIN_IP_RATE", "20/m", _RATE, "e.g. 20/m")
PORTAL_STEP_UP_POLICY = env.choice(
    "PORTAL_STEP_UP_POLICY", "question+code", ("question+code", "code", "question")
)
PORTAL_STEP_UP_PASSKEY = env.boolean("PORTAL_STEP_UP_PASSKEY", default=True)
PORTAL_LOCKOUT_THRESHOLD = 5
PORTAL_LOCKOUT_SECONDS = 30 * 60
PORTAL_CODE_TTL_SECONDS = 5 * 60
PORTAL_CODE_MAX_ATTEMPTS = 5
PORTAL_CODE_RESEND_SECONDS = env.integer("PORTAL_CODE_RESEND_SECONDS", 30, maximum=600)
PORTAL_CODE_MAX_PER_HOUR = env.integer("PORTAL_CODE_MAX_PER_HOUR", 10, minimum=1)
PORTAL_CODE_SEND_IP_RATE = env.pattern("PORTAL_CODE_SEND_IP_RATE", "30/h", _RATE, "e.g. 30/h")
PORTAL_DEVICE_LIFETIME_DAYS = 180
PORTAL_DEVICE_MAX_PER_USER = 10
PORTAL_REAUTH_SECONDS = 5 * 60
PORTAL_EVENT_RETENTION_DAYS = 2 * 365

# --- Passkeys (WebAuthn) ------------------------------------------------------------------------
# The relying party id is the host name passkeys are bound to (never an IP address or a port);
# each origin is a page address the browser may report in a ceremony, on that host or below it.
_RP_DEFAULT = next(
    (
        host.lstrip(".")
        for host in ALLOWED_HOSTS
        if host.lstrip(".")
        and host != "*"
        and not host.startswith("[")
        and not host.replace(".", "").isdigit()
    ),
    "localhost",
)
PORTAL_WEBAUTHN_RP_ID = (env.text("PORTAL_WEBAUTHN_RP_ID") or _RP_DEFAULT).lower()
if not re.fullmatch(
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", PORTAL_WEBAUTHN_RP_ID
) or (PORTAL_WEBAUTHN_RP_ID.replace(".", "").isdigit()):
    raise env.ConfigError("PORTAL_WEBAUTHN_RP_ID", "must be a host name such as portal.example.com")
# Locally the portal serves https://localhost:8443 (portal.serve); behind nginx, port 443.
PORTAL_WEBAUTHN_ORIGINS = env.csv_list(
    "PORTAL_WEBAUTHN_ORIGINS",
    f"https://{PORTAL_WEBAUTHN_RP_ID}" if PRODUCTION else f"https://{PORTAL_WEBAUTHN_RP_ID}:8443",
)
for _origin in PORTAL_WEBAUTHN_ORIGINS:
    _parts = urlsplit(_origin)
    _host = (_parts.hostname or "").lower()
    if (
        _parts.scheme != "https"
        or _parts.path not in ("", "/")
        or _parts.query
        or _parts.username
        or not (_host == PORTAL_WEBAUTHN_RP_ID or _host.endswith("." + PORTAL_WEBAUTHN_RP_ID))
    ):
        raise env.ConfigError(
            "PORTAL_WEBAUTHN_ORIGINS",
            f"must list https:// origins on {PORTAL_WEBAUTHN_RP_ID} or below it, not {_origin!r}",
        )
PORTAL_WEBAUTHN_ORIGINS = [origin.rstrip("/") for origin in PORTAL_WEBAUTHN_ORIGINS]
PORTAL_ESIGN_VERSION = "2026-11"

# --- Static files, i18n, logging ----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on a missing directory
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "portal.static_storage.StaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# English and Spanish. The first visit follows Accept-Language; the English | Español switch keeps
# the choice in a cookie and, once signed in, on the customer's record (portal.languages).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "__Host-language"
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
# Dates, times and amounts as the lender writes them in each language (portal/formats/).
FORMAT_MODULE_PATH = "portal.formats"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

# /metrics (Prometheus): open to these networks, or to anyone with the bearer token.
PORTAL_METRICS_NETWORKS = env.networks("PORTAL_METRICS_NETWORKS", "127.0.0.1/32,::1/128")
PORTAL_METRICS_TOKEN = env.text("PORTAL_METRICS_TOKEN")
if PORTAL_METRICS_TOKEN and len(PORTAL_METRICS_TOKEN) < 32:
    raise env.ConfigError("PORTAL_METRICS_TOKEN", "must be at least 32 characters")


def _portal_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return "auto-loan-portal@" + version("auto-loan-portal")
    except PackageNotFoundError:
        return "auto-loan-portal@unknown"


# Optional error reporting (pip install '.[sentry]'); personal data is scrubbed before sending.
SENTRY_DSN = env.url("SENTRY_DSN", ("https", "http"))
if SENTRY_DSN:
    try:
        from portal.error_reporting import error_reporting_start

        error_reporting_start(SENTRY_DSN, environment=PORTAL_ENV, release=_portal_version())
    except ImportError:
        raise env.ConfigError("SENTRY_DSN", "needs sentry-sdk: pip install '.[sentry]'") from None

PORTAL_LOG_FORMAT = env.choice("PORTAL_LOG_FORMAT", "json", ("json", "plain"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "portal.request_log.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    # One JSON object per line on stdout (PORTAL_LOG_FORMAT=plain for reading by eye).
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": PORTAL_LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    # Request bodies never reach the logs; django.request logs only method, path and status.
    "loggers": {"django.security.DisallowedHost": {"level": "ERROR"}},
}

FORM_RENDERER = "portal.forms.PortalFormRenderer"
