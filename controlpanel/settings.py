"""Berth settings: read from environment variables only.

With nothing set, Berth runs embedded: SQLite and files under ``var/``, a Celery broker on the
filesystem, an in-process channel layer and a local-memory cache. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis. Every variable is listed in the README's table and
in ``.env.example``; a secret ``X`` may also be read from the file named by ``X_FILE``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

if env.bool("BERTH_READ_DOTENV", default=True) and (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))


def secret(name: str, default: str = "") -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


VAR_DIR = Path(env.str("BERTH_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret_key() -> str:
    # Embedded default: a key made once and kept under var/, so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = secret("SECRET_KEY") or _persistent_secret_key()
DEBUG = env.bool("DEBUG", default=False)

# The panel's own address; sites live at <slug>.<SITES_DOMAIN>.
PANEL_URL = env.str("PANEL_URL", default="http://localhost:8000").rstrip("/")
_panel = urlsplit(PANEL_URL)
HTTPS = _panel.scheme == "https"
SITES_DOMAIN = env.str("SITES_DOMAIN", default="localhost").lower().strip(".")
SITES_SCHEME = env.str("SITES_SCHEME", default=_panel.scheme)
SITES_PORT = env.int("SITES_PORT", default=_panel.port or 0)

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=[_panel.hostname or "localhost", "localhost", "127.0.0.1", "[::1]"],
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PANEL_URL])

INSTALLED_APPS = [
    # Not "daphne": its app only makes `runserver` serve ASGI, and importing it loads Twisted
    # (~40 MiB) into every process; `manage.py serve` and the full stack start daphne itself.
    "controlpanel.apps.BerthAdminConfig",  # django.contrib.admin, its changes audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "controlpanel",
    "accounts",
    "hosting",
    "deployments",
    "domains",
    "teams",
    "monitoring",
    "billing",
    "analytics",
    "operators",
    "editor",
    "wordpress",
    "backups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "controlpanel.middleware.SecurityHeadersMiddleware",
    "controlpanel.middleware.StaticFilesMiddleware",  # WhiteNoise, streaming under ASGI
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "controlpanel.middleware.RefuseNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.BrowserSessionMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "teams.audit.AuditMiddleware",
]

ROOT_URLCONF = "controlpanel.urls"
WSGI_APPLICATION = "controlpanel.wsgi.application"
ASGI_APPLICATION = "controlpanel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "controlpanel.context_processors.panel",
                "teams.context.team_navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    # An empty DATABASE_URL means the default, like an unset one.
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'berth.sqlite3'}"
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, broker, rate limits --------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="berth")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "controlpanel.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # channels-redis waits for messages with a 5 s blocking pop; redis-py 8's
                # default 5 s socket timeout cut that wait and closed idle WebSockets (1011).
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_keepalive": True}],
                "prefix": f"{CACHE_KEY_PREFIX}:asgi",
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=REDIS_URL or f"file://{CELERY_DIR / 'results'}"
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL == "filesystem://":
    for sub in ("queue", "processed", "results", "control"):
        (CELERY_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(CELERY_DIR / "control"),
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A task whose worker died is delivered again after this long (see "late acks").
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Monitoring and the status page ---------------------------------------------------------
MONITORING_CHECK_INTERVAL = env.int("MONITORING_CHECK_INTERVAL", default=30)
MONITORING_HEARTBEAT_INTERVAL = env.int("MONITORING_HEARTBEAT_INTERVAL", default=30)
# Web servers started on their own (gunicorn, daphne: the full stack) send their host's
# heartbeats too; `manage.py serve` and Celery workers always do.
SERVER_HEARTBEATS = env.bool("SERVER_HEARTBEATS", default=False)
# The name a host reports under; default: the machine's (the container's) host name.
MONITORING_HOST_NAME = env.str("MONITORING_HOST_NAME", default="")
MONITORING_DEGRADED_MS = env.int("MONITORING_DEGRADED_MS", default=2000)
MONITORING_QUEUE_WAIT_DEGRADED = env.int("MONITORING_QUEUE_WAIT_DEGRADED", default=300)
MONITORING_FAILURES_TO_OPEN = env.int("MONITORING_FAILURES_TO_OPEN", default=3)
MONITORING_RAW_DAYS = env.int("MONITORING_RAW_DAYS", default=2)
MONITORING_HOURLY_DAYS = env.int("MONITORING_HOURLY_DAYS", default=30)
MONITORING_DAILY_DAYS = env.int("MONITORING_DAILY_DAYS", default=365)
# A live site the checks fetch to prove that sites are served; unset: no "CDN" service.
MONITORING_CANARY_URL = env.str("MONITORING_CANARY_URL", default="")
MONITORING_CANARY_ADDRESS = env.str("MONITORING_CANARY_ADDRESS", default="")

# --- Supervised processes -------------------------------------------------------------------
# supervisord's configuration, owner-only socket and logs (see controlpanel/supervision.py).
SUPERVISOR_DIR = Path(env.str("SUPERVISOR_DIR", default=str(VAR_DIR / "supervisor")))

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "landing"

# API tokens: revocable server-side sessions (accounts.AccessToken).
ACCESS_TOKEN_LIFETIME = timedelta(seconds=env.int("ACCESS_TOKEN_LIFETIME", default=3600))
REFRESH_TOKEN_LIFETIME = timedelta(seconds=env.int("REFRESH_TOKEN_LIFETIME", default=30 * 86400))

# django-allauth
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_SESSION_REMEMBER = None  # the "Remember me" box decides
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_FORMS = {"reset_password_from_key": "accounts.password_forms.PasswordResetKeyForm"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Berth: "
# Sign-in failures per address and per account (the API login counts here too); sign-ups per
# address, like the API's auth limit.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/m/ip,5/5m/key",
    "signup": "5/m/ip",
    # A protected preview's password (hosting.views.preview_unlock): per address and per preview.
    "preview_unlock": "10/m/ip,30/10m/key",
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"
# Two-factor sign-in (allauth.mfa): authenticator apps (TOTP) with recovery codes, and passkeys.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Berth"
# WebAuthn needs a secure origin; http://localhost counts as one in browsers.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not HTTPS
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_STORE_TOKENS = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
GITHUB_CLIENT_ID = env.str("GITHUB_CLIENT_ID", default="")
GITHUB_CLIENT_SECRET = secret("GITHUB_CLIENT_SECRET")
GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = secret("GOOGLE_CLIENT_SECRET")
SOCIALACCOUNT_PROVIDERS: dict = {}
if GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET:
    SOCIALACCOUNT_PROVIDERS["github"] = {
        "APPS": [{"client_id": GITHUB_CLIENT_ID, "secret": GITHUB_CLIENT_SECRET}],
        "SCOPE": ["read:user", "user:email", "repo"],
    }
if GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET:
    SOCIALACCOUNT_PROVIDERS["google"] = {
        "APPS": [{"client_id": GOOGLE_CLIENT_ID, "secret": GOOGLE_CLIENT_SECRET}],
        "SCOPE": ["profile", "email"],
    }

# Secrets at rest (OAuth tokens, environment variables, private keys): Fernet keys, newest first.
FIELD_ENCRYPTION_KEYS = [k for k in secret("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]

# --- Email ----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Berth <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMTP_HOST = env.str("SMTP_HOST", default="")
if SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = SMTP_HOST
    EMAIL_PORT = env.int("SMTP_PORT", default=587)
    EMAIL_HOST_USER = env.str("SMTP_USER", default="")
    EMAIL_HOST_PASSWORD = secret("SMTP_PASS")
    EMAIL_USE_TLS = env.bool("SMTP_TLS", default=EMAIL_PORT == 587)
    EMAIL_USE_SSL = env.bool("SMTP_SSL", default=EMAIL_PORT == 465)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Sessions, cookies, security headers -----------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 14 * 86400
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
CSRF_FAILURE_VIEW = "controlpanel.views.csrf_failure"
SECURE_SSL_REDIRECT = HTTPS and env.bool("SECURE_SSL_REDIRECT", default=True)
# Reverse proxies in front of the panel. Only with some are X-Forwarded-For (client addresses,
# controlpanel/http.py) and X-Forwarded-Proto believed: without, a client writes them itself.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS and NUM_PROXIES else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self' https://github.com https://accounts.google.com; object-src 'none'"
)

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "storage")))
# Three stores: "default" (avatars), "sitefiles" (the file manager's working trees) and
# "blobs" (deployment contents by digest). Local folders under var/storage by default;
# S3-compatible object storage (boto3) when S3_BUCKET is set.
S3_BUCKET = env.str("S3_BUCKET", default="")
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="")
S3_REGION = env.str("S3_REGION", default="us-east-1")
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="")
AWS_SECRET_ACCESS_KEY = secret("AWS_SECRET_ACCESS_KEY")


def file_storages(root: Path, bucket: str = "") -> dict:
    """The three file stores under a local root, or in an S3 bucket."""

    def store(location: str, overwrite: bool) -> dict:
        if bucket:
            return {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": bucket,
                    "location": location,
                    "endpoint_url": S3_ENDPOINT_URL or None,
                    "region_name": S3_REGION,
                    "access_key": AWS_ACCESS_KEY_ID or None,
                    "secret_key": AWS_SECRET_ACCESS_KEY or None,
                    "file_overwrite": overwrite,
                    "default_acl": None,
                },
            }
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": str(root / location),
                "base_url": MEDIA_URL if location == "public" else None,
                "allow_overwrite": overwrite,
            },
        }

    return {
        "default": store("public", overwrite=False),
        "sitefiles": store("sites", overwrite=True),
        "blobs": store("blobs", overwrite=True),
    }


STORAGES = {
    **file_storages(MEDIA_ROOT, S3_BUCKET),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
# collectstatic compresses what browsers fetch: hashed names only, and not the vendored bundles'
# multi-megabyte source maps (brotli on those took most of a 30 s collectstatic).
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Larger uploads go to a temporary file; a full disk there answers 507 STORAGE_FULL.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "hosting.files.uploadtemp.TemporaryFileUploadHandler",
]
AVATAR_MAX_BYTES = 2 * 1024 * 1024

# --- Sites ----------------------------------------------------------------------------------
# The production edge: rendered nginx config, materialised live trees, certificates, ACME files.
EDGE_ROOT = Path(env.str("EDGE_ROOT", default=str(VAR_DIR / "edge")))
# The free plan's storage per site and monthly bandwidth per site (billing plans carry them).
SITE_STORAGE_LIMIT = env.int("SITE_STORAGE_LIMIT_MB", default=1024) * 1024 * 1024
SITE_BANDWIDTH_LIMIT = env.int("SITE_BANDWIDTH_LIMIT_GB", default=100) * 1024**3
# --- Sites: file manager --- limits in docs/sites-and-files.md.
SITE_UPLOAD_MAX_FILE_SIZE = env.int("SITE_UPLOAD_MAX_FILE_MB", default=100) * 1024 * 1024
SITE_UPLOAD_MAX_REQUEST_SIZE = env.int("SITE_UPLOAD_MAX_REQUEST_MB", default=512) * 1024 * 1024
SITE_UPLOAD_MAX_FILES = env.int("SITE_UPLOAD_MAX_FILES", default=1000)
SITE_ZIP_MAX_FILES = env.int("SITE_ZIP_MAX_FILES", default=10000)
# Most files in one folder deploy through the API (the berth command-line client's deploys).
DEPLOY_MAX_FILES = env.int("DEPLOY_MAX_FILES", default=20000)
SITE_ZIP_MAX_UNCOMPRESSED = env.int("SITE_ZIP_MAX_UNCOMPRESSED_MB", default=2048) * 1024 * 1024
SITE_EDITOR_MAX_SIZE = 2 * 1024 * 1024
# --- The visual editor (docs/editor.md): the largest page document a save may store.
EDITOR_DOCUMENT_MAX_SIZE = env.int("EDITOR_DOCUMENT_MAX_KB", default=2048) * 1024
EDITOR_ASSET_MAX_SIZE = env.int("EDITOR_ASSET_MAX_KB", default=5120) * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = SITE_UPLOAD_MAX_FILES
# Oversized uploads get 413 from their Content-Length, before CSRF reads the body.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware"),
    "hosting.middleware.UploadSizeLimitMiddleware",
)

# --- Serving sites (see docs/serving.md) ----------------------------------------------------
# Embedded site server: how often a process reads the change feed (ms), how long a cached
# route or site state may be trusted without a signal (s), and its memory.
SERVING_CHECK_INTERVAL = env.int("SERVING_CHECK_INTERVAL_MS", default=250)
SERVING_CACHE_TTL = env.int("SERVING_CACHE_TTL", default=60)
SERVING_RELEASE_CACHE = env.int("SERVING_RELEASE_CACHE", default=256)
SERVING_MEMORY_CACHE_BYTES = env.int("SERVING_MEMORY_CACHE_MB", default=64) * 1024 * 1024
SERVING_MEMORY_ITEM_MAX = 256 * 1024
SERVING_BANDWIDTH_FLUSH = env.int("SERVING_BANDWIDTH_FLUSH", default=30)
# The nginx edge: off unless this machine runs it (the embedded default serves sites itself).
EDGE_ENABLED = env.bool("EDGE_ENABLED", default=False)
EDGE_NGINX = env.str("EDGE_NGINX", default="nginx")
EDGE_CONFIG = env.str("EDGE_CONFIG", default="")  # default <EDGE_ROOT>/nginx/nginx.conf
EDGE_RELOAD_COMMAND = env.str("EDGE_RELOAD_COMMAND", default="")  # default: nginx -s reload
EDGE_TEST_CONFIG = env.bool("EDGE_TEST_CONFIG", default=True)
EDGE_LISTEN = env.str("EDGE_LISTEN", default="80")
EDGE_LISTEN_TLS = env.str("EDGE_LISTEN_TLS", default="443")
EDGE_NGINX_USER = env.str("EDGE_NGINX_USER", default="")
_BROTLI_MODULE = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so"
EDGE_BROTLI_MODULE = env.str(
    "EDGE_BROTLI_MODULE", default=_BROTLI_MODULE if os.path.exists(_BROTLI_MODULE) else ""
)
EDGE_ACCESS_LOG = env.str("EDGE_ACCESS_LOG", default="")  # default <EDGE_ROOT>/logs/access.log
EDGE_SYNC_INTERVAL = env.int("EDGE_SYNC_INTERVAL", default=300)
EDGE_TREE_GRACE = env.int("EDGE_TREE_GRACE", default=300)
EDGE_LOG_INTERVAL = env.int("EDGE_LOG_INTERVAL", default=60)
# An ``edge_sync --watch`` follows the change feed: changes queue no edge sync task.
EDGE_WATCHER = env.bool("EDGE_WATCHER", default=False)
# With a separate edge host/container, its tasks go to this queue so only the edge runs them.
EDGE_QUEUE = env.str("EDGE_QUEUE", default="")
CELERY_TASK_ROUTES = (
    {name: {"queue": EDGE_QUEUE} for name in ("hosting.edge_sync", "hosting.edge_bandwidth")}
    if EDGE_QUEUE
    else {}
)
# Unreferenced blobs are deleted after this many hours (periodic task and `collect_blobs`).
BLOB_GC_GRACE_HOURS = env.int("BLOB_GC_GRACE_HOURS", default=24)
BLOB_GC_INTERVAL = env.int("BLOB_GC_INTERVAL", default=3600)

# --- WordPress sites (see docs/wordpress.md) -------------------------------------------------
# The MariaDB server holding each site's database, e.g. mysql://root@127.0.0.1:3306 (an account
# that may create databases and users). Unset: a MariaDB at 127.0.0.1:3306 (root, no password)
# when one answers there, else creating a WordPress site is refused with the reason.
MARIADB_URL = env.str("MARIADB_URL", default="")
# Where each site's folder (document root, wp-content, pool config, socket) lives.
WORDPRESS_ROOT = Path(env.str("WORDPRESS_ROOT", default=str(VAR_DIR / "wordpress")))
# WordPress core (Debian's `wordpress` package), php-fpm and the PHP command line.
WORDPRESS_CORE = Path(env.str("WORDPRESS_CORE", default="/usr/share/wordpress"))
WORDPRESS_PHP_FPM = env.str("WORDPRESS_PHP_FPM", default="php-fpm8.2")
WORDPRESS_PHP = env.str("WORDPRESS_PHP", default="php")
# The group that may connect to the pools' sockets (the edge nginx's); default: the panel's.
WORDPRESS_SOCKET_GROUP = env.str("WORDPRESS_SOCKET_GROUP", default="")
# PHP limits of a pool until billing plans set them.
WORDPRESS_MEMORY_LIMIT_MB = env.int("WORDPRESS_MEMORY_LIMIT_MB", default=128)
WORDPRESS_UPLOAD_LIMIT_MB = env.int("WORDPRESS_UPLOAD_LIMIT_MB", default=32)
WORDPRESS_MAX_EXECUTION_SECONDS = env.int("WORDPRESS_MAX_EXECUTION_SECONDS", default=30)
WORDPRESS_MAX_CHILDREN = env.int("WORDPRESS_MAX_CHILDREN", default=5)

# --- Backups (restic) -----------------------------------------------------------------------
# Each team's restic repository: a folder under BACKUP_ROOT, or under s3:<endpoint>/<bucket>/
# backups/ when S3_BUCKET is set (the same storage settings as the file stores).
BACKUP_ROOT = Path(env.str("BACKUP_ROOT", default=str(VAR_DIR / "backups")))
RESTIC_BINARY = env.str("RESTIC_BINARY", default="restic")
# Wall-clock limit of one restic or mysqldump command, in seconds.
BACKUP_TIMEOUT = env.int("BACKUP_TIMEOUT", default=3600)
# Seconds without a heartbeat after which a running backup, restore or drill is reaped.
BACKUP_HEARTBEAT_TIMEOUT = env.int("BACKUP_HEARTBEAT_TIMEOUT", default=120)
# Days between two restore drills of a site (its latest backup restored and compared).
BACKUP_DRILL_DAYS = env.int("BACKUP_DRILL_DAYS", default=7)
# Berth's own backups (manage.py backup / restore): a restic repository of their own, whose
# password the operator keeps somewhere other than this machine.
PANEL_BACKUP_REPOSITORY = env.str("PANEL_BACKUP_REPOSITORY", default="")
PANEL_BACKUP_PASSWORD = secret("PANEL_BACKUP_PASSWORD")

# --- Builds (deployments app: git builds, logs, GitHub) -------------------------------------
# Wall-clock limit of one build (clone + install + build), in seconds.
BUILD_TIMEOUT = env.int("BUILD_TIMEOUT", default=600)
# Days after its newest build a branch or pull request preview is removed (0 keeps them).
PREVIEW_EXPIRE_DAYS = env.int("PREVIEW_EXPIRE_DAYS", default=30)
# How long a protected preview stays open in a browser once unlocked (hosting.preview_lock).
PREVIEW_UNLOCK_HOURS = env.int("PREVIEW_UNLOCK_HOURS", default=24)
# Largest output directory a build may publish, in MB (the Autostack backend's MAX_BUILD_SIZE).
MAX_BUILD_SIZE = env.int("MAX_BUILD_SIZE", default=500) * 1024 * 1024
BUILD_ROOT = Path(env.str("BUILD_ROOT", default=str(VAR_DIR / "builds")))
# Install and build commands run in a bubblewrap sandbox (docs/builds.md); "none" is the
# operator's explicit opt-out (builds then run as the worker's user, unconfined).
BUILD_SANDBOX = env.str("BUILD_SANDBOX", default="bubblewrap")
# "slirp4netns": builds reach the internet but not the host's loopback; "none": no network.
BUILD_NETWORK = env.str("BUILD_NETWORK", default="slirp4netns")
# Private IPv4 ranges builds may reach anyway (a package mirror on the LAN), e.g.
# "10.1.2.3/32,192.168.5.0/24"; every other private, link-local and host address is unreachable.
BUILD_NETWORK_ALLOW = env.list("BUILD_NETWORK_ALLOW", default=[])
# The unprivileged uid/gid sandboxes run as when the panel runs as root.
BUILD_UID = env.int("BUILD_UID", default=65534)
BUILD_GID = env.int("BUILD_GID", default=65534)
# "auto": a cgroup per build command where the machine allows one (root, or a delegated
# cgroup v2 path given here); "off": the memory watchdog only.
BUILD_CGROUP = env.str("BUILD_CGROUP", default="auto")
# Per-project dependency caches (npm, pip, node_modules by lockfile digest).
BUILD_CACHE_ROOT = Path(env.str("BUILD_CACHE_ROOT", default=str(VAR_DIR / "build-cache")))
BUILD_CACHE_MAX_MB = env.int("BUILD_CACHE_MAX_MB", default=2048)
# Limits of every build: CPU seconds and file size per process (setrlimit), memory of the
# whole sandbox (a cgroup, else a watchdog on its processes' PSS; never an address-space
# limit, which breaks JIT and WebAssembly), processes, and the PATH builds see.
BUILD_CPU_SECONDS = env.int("BUILD_CPU_SECONDS", default=BUILD_TIMEOUT)
BUILD_MEMORY_MB = env.int("BUILD_MEMORY_MB", default=4096)
BUILD_MAX_FILE_SIZE = env.int("BUILD_MAX_FILE_SIZE_MB", default=500) * 1024 * 1024
BUILD_MAX_PROCESSES = env.int("BUILD_MAX_PROCESSES", default=512)
BUILD_PATH = env.str("BUILD_PATH", default="/usr/local/bin:/usr/bin:/bin")
BUILD_LOG_MAX_LINES = env.int("BUILD_LOG_MAX_LINES", default=200_000)
# Whether projects may build from file:// URLs and local paths on this server (tests, single
# user installs). Turn off on shared servers: any user could clone any readable repository.
# Off by default whenever the panel is served over https (a public server).
BUILD_ALLOW_LOCAL_REPOSITORIES = env.bool(
    "BUILD_ALLOW_LOCAL_REPOSITORIES", default=not PANEL_URL.startswith("https://")
)
# Folders local repositories must lie in (colon-separated) when they are allowed.
BUILD_LOCAL_REPOSITORY_ROOTS = [
    Path(root)
    for root in env.str("BUILD_LOCAL_REPOSITORY_ROOTS", default="/").split(":")
    if root.strip()
]
# The free plan's concurrent builds (a team's plan says how many; more wait queued).
BUILD_CONCURRENCY_PER_USER = env.int("BUILD_CONCURRENCY_PER_USER", default=2)
# A running build writes a heartbeat this often; the reaper fails builds silent for longer.
BUILD_HEARTBEAT_INTERVAL = env.float("BUILD_HEARTBEAT_INTERVAL", default=5.0)
BUILD_HEARTBEAT_TIMEOUT = env.int("BUILD_HEARTBEAT_TIMEOUT", default=60)
BUILD_REAPER_INTERVAL = env.int("BUILD_REAPER_INTERVAL", default=30)
# Seconds a build waits for an unreachable database before it stops (kept below the heartbeat
# timeout, so the reaper never fails a build that is only waiting for the database).
BUILD_DATABASE_PATIENCE = env.float("BUILD_DATABASE_PATIENCE", default=30.0)
GITHUB_API_URL = env.str("GITHUB_API_URL", default="https://api.github.com").rstrip("/")
# Optional: one secret for push webhooks of an organisation or GitHub App, besides the
# per-project secrets shown on each project's page.
GITHUB_WEBHOOK_SECRET = secret("GITHUB_WEBHOOK_SECRET")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests run real Celery workers and servers in other processes: they need the test
    # database on disk (WAL), not in this process's memory.
    DATABASES["default"].setdefault("TEST", {"NAME": str(VAR_DIR / "test.sqlite3")})
# Messages one channel holds before the layer drops more (consumers recover from the database).
CHANNEL_LAYER_CAPACITY = env.int("CHANNEL_LAYER_CAPACITY", default=100)
CHANNEL_LAYERS["default"].setdefault("CONFIG", {})["capacity"] = CHANNEL_LAYER_CAPACITY

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "controlpanel.api.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "controlpanel.api.pagination.PagePagination",
    "PAGE_SIZE": 10,
    "DEFAULT_THROTTLE_CLASSES": ["controlpanel.api.throttling.GeneralRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "general": env.str("RATE_LIMIT_GENERAL", default="100/min"),
        "auth": env.str("RATE_LIMIT_AUTH", default="5/min"),
        "deployments": env.str("RATE_LIMIT_DEPLOYMENTS", default="10/hour"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "EXCEPTION_HANDLER": "controlpanel.api.exceptions.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Berth API",
    "DESCRIPTION": "The REST API of Berth, a self-hosted hosting control panel.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/(v1/)?",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # drf-spectacular's generator with Berth's extensions (loaded when a schema is generated).
    "DEFAULT_GENERATOR_CLASS": "controlpanel.api.schema_generator.SchemaGenerator",
    "ENUM_NAME_OVERRIDES": {
        "TokenTypeEnum": "accounts.models.AccessToken.Kind",
        "DeploymentStatusEnum": "deployments.models.Deployment.Status",
        "SiteStatusEnum": "hosting.models.Site.Status",
        "SiteKindEnum": "hosting.models.Site.Kind",
        "CertificateStatusEnum": "domains.models.Certificate.Status",
        "VerificationStatusEnum": "domains.models.Domain.Verification",
        "TeamRoleEnum": "teams.models.Role",
        "InviteRoleEnum": "teams.api.serializers.INVITE_ROLES",
        "InvitationStatusEnum": "teams.models.Invitation.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "controlpanel.api.schema.add_error_responses",
    ],
}

# --- Misc -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
ADMINS = [("Operators", a) for a in env.list("ADMINS", default=[])]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Domains (domains app): registration, DNS zones, verification, ACME certificates ---------
# Registrations go through an adapter (docs/domains.md). TLDs listed in BERTH_REGISTRY_TLDS
# ("tld=price per year", comma-separated) are registered in Berth's own built-in registry;
# every other TLD goes to DOMAINS_REGISTRAR (a dotted adapter class; empty: not offered).
BERTH_REGISTRY_TLDS = {
    tld.strip().lower().strip("."): price.strip()
    for tld, _, price in (
        item.partition("=") for item in env.list("BERTH_REGISTRY_TLDS", default=["test=12.00"])
    )
    if tld.strip()
}
BERTH_REGISTRY_CURRENCY = env.str("BERTH_REGISTRY_CURRENCY", default="USD")
DOMAINS_REGISTRAR = env.str("DOMAINS_REGISTRAR", default="")
DOMAINS_REGISTRAR_URL = env.str("DOMAINS_REGISTRAR_URL", default="")
DOMAINS_REGISTRAR_USER = env.str("DOMAINS_REGISTRAR_USER", default="")
DOMAINS_REGISTRAR_KEY = secret("DOMAINS_REGISTRAR_KEY")
DOMAIN_REMINDER_DAYS = [int(d) for d in env.list("DOMAIN_REMINDER_DAYS", default=["30", "7", "1"])]
# PowerDNS Authoritative HTTP API for hosted zones; empty: zones are kept but not published.
PDNS_API_URL = env.str("PDNS_API_URL", default="").rstrip("/")
PDNS_API_KEY = secret("PDNS_API_KEY")
PDNS_SERVER_ID = env.str("PDNS_SERVER_ID", default="localhost")
DNS_NAMESERVERS = env.list(
    "DNS_NAMESERVERS", default=[f"ns1.{SITES_DOMAIN}", f"ns2.{SITES_DOMAIN}"]
)
DNS_DEFAULT_TTL = env.int("DNS_DEFAULT_TTL", default=3600)
# The edge's public addresses: default records of new zones and the "A record" verification.
EDGE_IPV4 = env.list("EDGE_IPV4", default=[])
EDGE_IPV6 = env.list("EDGE_IPV6", default=[])
# Resolvers that verification asks ("ip" or "ip:port"); empty: the system's resolvers.
DNS_RESOLVERS = env.list("DNS_RESOLVERS", default=[])
DOMAIN_VERIFY_INTERVAL = env.int("DOMAIN_VERIFY_INTERVAL", default=600)  # seconds
# A domain whose DNS does not prove it yet keeps "waiting for DNS" this long, then fails.
DOMAIN_VERIFY_GIVE_UP_HOURS = env.int("DOMAIN_VERIFY_GIVE_UP_HOURS", default=72)
# ACME (certificates): any CA's directory, Let's Encrypt by default.
ACME_DIRECTORY_URL = env.str(
    "ACME_DIRECTORY_URL", default="https://acme-v02.api.letsencrypt.org/directory"
)
ACME_EMAIL = env.str("ACME_EMAIL", default="")
ACME_CA_BUNDLE = env.str("ACME_CA_BUNDLE", default="")  # trust for a private CA's directory
ACME_AUTO_ISSUE = env.bool("ACME_AUTO_ISSUE", default=True)
CERT_RENEW_DAYS = env.int("CERT_RENEW_DAYS", default=30)
CERT_MAX_ATTEMPTS = env.int("CERT_MAX_ATTEMPTS", default=6)

# --- Billing (docs/billing.md) ---------------------------------------------------------------
# The plans Berth starts with; operators edit them in the admin afterwards. Empty: unlimited.
BILLING_CURRENCY = env.str("BILLING_CURRENCY", default="USD").upper()
BILLING_DEFAULT_PLAN = "free"
BILLING_PLANS = {
    "free": {
        "name": "Free",
        "price_monthly": "0",
        "price_yearly": "0",
        "sites": env.int("BILLING_FREE_SITES", default=25),
        "wordpress_sites": env.int("BILLING_FREE_WORDPRESS_SITES", default=1),
        "storage_per_site_mb": SITE_STORAGE_LIMIT // (1024 * 1024),
        "bandwidth_gb": SITE_BANDWIDTH_LIMIT // 1024**3,
        "build_minutes": env.int("BILLING_FREE_BUILD_MINUTES", default=300),
        "concurrent_builds": BUILD_CONCURRENCY_PER_USER,
        "custom_domains": env.int("BILLING_FREE_CUSTOM_DOMAINS", default=25),
        "members": env.int("BILLING_FREE_MEMBERS", default=5),
        "backup_retention_days": 7,
    },
    "standard": {
        "name": "Standard",
        "price_monthly": "19",
        "price_yearly": "190",
        "sites": 100,
        "wordpress_sites": 10,
        "storage_per_site_mb": 10 * 1024,
        "bandwidth_gb": 1000,
        "build_minutes": 3000,
        "concurrent_builds": 4,
        "custom_domains": 200,
        "members": 25,
        "backup_retention_days": 30,
        "php_memory_mb": 256,
        "php_upload_mb": 128,
        "php_execution_seconds": 60,
    },
    "enterprise": {
        "name": "Enterprise",
        "price_monthly": "99",
        "price_yearly": "990",
        "sites": None,
        "wordpress_sites": None,
        "storage_per_site_mb": 100 * 1024,
        "bandwidth_gb": None,
        "build_minutes": None,
        "concurrent_builds": 10,
        "custom_domains": None,
        "members": None,
        "backup_retention_days": 365,
        "php_memory_mb": 512,
        "php_upload_mb": 512,
        "php_execution_seconds": 120,
    },
}
# A team whose payment failed keeps everything this many days, then is suspended.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
# Days a built-in invoice is due after it is issued.
BILLING_INVOICE_DUE_DAYS = env.int("BILLING_INVOICE_DUE_DAYS", default=14)
# The operator's business details printed on invoices (lines separated by "|").
BILLING_BUSINESS_NAME = env.str("BILLING_BUSINESS_NAME", default="Berth hosting")
BILLING_BUSINESS_ADDRESS = env.str("BILLING_BUSINESS_ADDRESS", default="")
BILLING_BUSINESS_TAX_ID = env.str("BILLING_BUSINESS_TAX_ID", default="")
BILLING_INVOICE_PREFIX = env.str("BILLING_INVOICE_PREFIX", default="INV-")
# Tax rate in percent added to built-in invoices (Stripe computes its own).
BILLING_TAX_PERCENT = env.float("BILLING_TAX_PERCENT", default=0.0)
# Stripe: with a secret key, customers pay through Checkout and the portal; without, the
# built-in provider (operators assign plans and mark invoices paid).
STRIPE_SECRET_KEY = secret("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = secret("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")  # a Stripe-compatible server (tests)
