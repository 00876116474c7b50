"""Sunshine settings: one module, every value from an environment variable.

Each variable and its default is listed in README.md ("Settings").
"""

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


VAR_DIR = Path(env("SUNSHINE_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _generated(variable: str, filename: str, nbytes: int) -> str:
    """A secret from the environment, else one generated once and kept in var/. Processes
    starting together agree on one: the file appears whole (a link to a written temporary
    file), and only the first link succeeds."""
    if env(variable):
        return env(variable)
    path = VAR_DIR / filename
    if not path.exists():
        tmp = VAR_DIR / f".{filename}.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.write_text(secrets.token_urlsafe(nbytes))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/."""
    return _generated("SECRET_KEY", "secret_key", 50)


def database_from_url(url: str) -> dict:
    """Parse DATABASE_URL: sqlite:///relative/or//absolute/path or postgres://u:p@h:port/db."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
        name = Path(path) if path.startswith("/") else BASE_DIR / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(name),
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; IMMEDIATE takes the
                # write lock at BEGIN so two writers queue instead of failing mid-transaction.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Reuse a process's connection: opening SQLite and running the PRAGMAs costs ~0.6 ms.
            "CONN_MAX_AGE": env_int("SUNSHINE_DB_CONN_MAX_AGE", 60),
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")}
            if env_bool("SUNSHINE_TEST_DB_FILE")
            else {},
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        options = dict(parse_qsl(parsed.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": env_int("SUNSHINE_DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ValueError(
        f"DATABASE_URL 不支持的数据库类型：{parsed.scheme!r}（可用 sqlite 或 postgres）"
    )


SECRET_KEY = _secret_key()
DEBUG = env_bool("SUNSHINE_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip() for h in env("SUNSHINE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env("SUNSHINE_CSRF_TRUSTED_ORIGINS").split(",") if o.strip()
]


def trusted_proxies(value: str) -> list[str]:
    """SUNSHINE_TRUSTED_PROXIES: addresses or networks (CIDR) of the reverse proxies whose
    X-Forwarded-For is believed. A malformed entry stops the start with a message: a proxy
    silently not trusted would make every visitor one address."""
    import ipaddress

    entries = [p.strip() for p in value.split(",") if p.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"SUNSHINE_TRUSTED_PROXIES 中的 {entry!r} 不是IP地址或网段（如 10.0.0.5 或 10.0.0.0/24）"
            ) from None
    return entries


# Reverse proxies in front of the web server (nginx, a load balancer): only their
# X-Forwarded-For names the visitor (sunshine.core.middleware.client_ip). Empty: none.
SUNSHINE_TRUSTED_PROXIES = trusted_proxies(env("SUNSHINE_TRUSTED_PROXIES"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "huey.contrib.djhuey",
    "ninja",
    "axes",
    "captcha",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "sunshine.core",
    "sunshine.places",
    "sunshine.accounts",
    "sunshine.people",
    "sunshine.publishing",
    "sunshine.messaging",
    "sunshine.precheck",
    "sunshine.rhregistry",
    "sunshine.portal",
    "sunshine.backoffice",
    "sunshine.api",
    "sunshine.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above the board cache, so that boards answered from the cache carry the policy too.
    "csp.middleware.CSPMiddleware",
    "sunshine.core.middleware.NoStoreMiddleware",
    "sunshine.core.middleware.UploadLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sunshine.portal.middleware.BoardCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "sunshine.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sunshine.core.middleware.RequestContextMiddleware",
    "sunshine.core.middleware.DatabaseBusyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "sunshine.portal.context.site",
                "sunshine.portal.context.capabilities",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env("DATABASE_URL", "sqlite:///var/sunshine.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "backoffice:login"
LOGIN_REDIRECT_URL = "backoffice:dashboard"
LOGOUT_REDIRECT_URL = "portal:home"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SUNSHINE_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_SECURE = env_bool("SUNSHINE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Served over HTTPS (SUNSHINE_SECURE_COOKIES=1): plain HTTP is redirected and browsers are told
# to use HTTPS only (HSTS, a year by default). Behind a trusted proxy that ends TLS, its
# X-Forwarded-Proto says whether the visitor came over HTTPS. /healthz stays plain for probes.
SECURE_SSL_REDIRECT = env_bool("SUNSHINE_SSL_REDIRECT", SESSION_COOKIE_SECURE)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int(
    "SUNSHINE_HSTS_SECONDS", 365 * 24 * 3600 if SESSION_COOKIE_SECURE else 0
)
# Subdomains of the portal's own host name are covered too; `preload` only allows a request to
# the browsers' preload list, which somebody must still submit.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SUNSHINE_HSTS_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SUNSHINE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
if SUNSHINE_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Lockout after repeated failed logins (django-axes): a failure counts against the pair of
# user name and client address, so nobody can lock a named colleague out from elsewhere. The
# address is the proxy-aware one the audit log and the throttles use. Wrong second-factor
# codes count as failures too. County admins unlock at 工作台 → 工作人员 → 登录锁定.
AXES_FAILURE_LIMIT = env_int("SUNSHINE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("SUNSHINE_LOGIN_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "sunshine.core.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "backoffice/locked_out.html"
AXES_VERBOSE = False
# Never keep a submitted second-factor code (nor the password) in the attempt records.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
# Login attempts hold usernames and addresses of every county: not in the (scoped) admin.
AXES_ENABLE_ADMIN = False

# One protection for every public form (sunshine.core.publicforms, docs/public-forms.md):
# posts to one form from one address per hour; the posts after which the picture challenge is
# asked (0: always); submissions naming one mobile number per day.
SUNSHINE_FORM_POSTS_PER_HOUR = env_int("SUNSHINE_FORM_POSTS_PER_HOUR", 20)
SUNSHINE_FORM_CAPTCHA_AFTER = env_int("SUNSHINE_FORM_CAPTCHA_AFTER", 3)
SUNSHINE_FORM_POSTS_PER_MOBILE_PER_DAY = env_int("SUNSHINE_FORM_POSTS_PER_MOBILE_PER_DAY", 5)
# SMS verification codes (sunshine.messaging.verification): minutes a code is valid, tries per
# code, codes per mobile and per address per hour.
SUNSHINE_SMS_CODE_MINUTES = env_int("SUNSHINE_SMS_CODE_MINUTES", 10)
SUNSHINE_SMS_CODE_TRIES = env_int("SUNSHINE_SMS_CODE_TRIES", 5)
SUNSHINE_SMS_CODES_PER_MOBILE_PER_HOUR = env_int("SUNSHINE_SMS_CODES_PER_MOBILE_PER_HOUR", 3)
SUNSHINE_SMS_CODES_PER_ADDRESS_PER_HOUR = env_int("SUNSHINE_SMS_CODES_PER_ADDRESS_PER_HOUR", 10)
# The picture challenge (django-simple-captcha): a TrueType font Debian ships (fonts-dejavu);
# when it is missing, the library's own font.
_CAPTCHA_FONT = env("SUNSHINE_CAPTCHA_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
if Path(_CAPTCHA_FONT).is_file():
    CAPTCHA_FONT_PATH = _CAPTCHA_FONT
CAPTCHA_FONT_SIZE = 30
CAPTCHA_LENGTH = 4
CAPTCHA_TIMEOUT = 10  # minutes a challenge may be answered in

# Two-factor log-in (django-otp: an authenticator app's 6-digit code, or a one-time recovery
# code) for every role that sees identifiers or health data (accounts.roles). On by default
# unless SUNSHINE_DEBUG=1; SUNSHINE_REQUIRE_2FA=0 turns it off (a local demo).
SUNSHINE_REQUIRE_2FA = env_bool("SUNSHINE_REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = env("SUNSHINE_SITE_NAME", "阳光计生")
# How long a password-checked log-in waits for its second factor.
SUNSHINE_2FA_PENDING_SECONDS = 600

# Content-Security-Policy (django-csp) on every response: scripts and stylesheets only from
# our own static files, no inline script or event handler, no framing. Inline style
# attributes are allowed (ECharts draws its SVG and tooltips with them; a style attribute
# cannot run script), <style> elements are not (htmx's indicator style is in staff.css).
# /api/docs relaxes it for Swagger UI alone (sunshine.api.views).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-elem": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

LANGUAGE_CODE = "zh-hans"
# The interface is Chinese only (STYLE.md); Django's own strings follow LANGUAGE_CODE.
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"  # filled by `sunshine collectstatic` in production
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# An .xlsx whose worksheets and shared strings unpack into more than this is refused before it
# is read (openpyxl keeps every shared string in memory).
SUNSHINE_XLSX_MAX_UNPACKED_MB = env_int("SUNSHINE_XLSX_MAX_UNPACKED_MB", 512)
# Request bodies over these are refused from Content-Length, before they are read (413).
SUNSHINE_MAX_UPLOAD_MB = env_int("SUNSHINE_MAX_UPLOAD_MB", 200)  # staff pages and staff API
SUNSHINE_MAX_PUBLIC_BODY_KB = env_int("SUNSHINE_MAX_PUBLIC_BODY_KB", 2048)  # everything else

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Task queue: huey. SQLite storage (a file of its own) by default, Redis when REDIS_URL is set.
HUEY_IMMEDIATE = env_bool("SUNSHINE_HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": env("SUNSHINE_HUEY_NAME", "sunshine"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("SUNSHINE_WORKERS", 2), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": env("SUNSHINE_HUEY_NAME", "sunshine"),
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("SUNSHINE_WORKERS", 1), "worker_type": "thread"},
    }

# Background jobs (sunshine.core.jobs): a running job's worker beats every HEARTBEAT seconds; a
# job whose last beat is older than LEASE seconds is marked interrupted (its worker died).
SUNSHINE_JOB_HEARTBEAT_SECONDS = env_int("SUNSHINE_JOB_HEARTBEAT_SECONDS", 10)
SUNSHINE_JOB_LEASE_SECONDS = env_int("SUNSHINE_JOB_LEASE_SECONDS", 120)
# Exports of up to this many rows are answered at once; larger ones run as a background job
# (written to a file under var/media/jobs/out/, downloaded from the job page).
SUNSHINE_EXPORT_INLINE_ROWS = env_int("SUNSHINE_EXPORT_INLINE_ROWS", 2000)

# Site facts shown on every public page until a county records its own (places.Contact).
SUNSHINE_SITE_NAME = env("SUNSHINE_SITE_NAME", "阳光计生")
SUNSHINE_HOTLINE = env("SUNSHINE_HOTLINE", "12320")
SUNSHINE_ICP = env("SUNSHINE_ICP", "")
# The address residents reach the portal at: printed as QR codes on posters, used in feeds.
SUNSHINE_BASE_URL = env("SUNSHINE_BASE_URL", "http://127.0.0.1:8000")
# Chinese TrueType font embedded in PDFs (Debian fonts-arphic-uming); index inside a .ttc.
SUNSHINE_PDF_FONT = env("SUNSHINE_PDF_FONT", "/usr/share/fonts/truetype/arphic/uming.ttc")
SUNSHINE_PDF_FONT_INDEX = env_int("SUNSHINE_PDF_FONT_INDEX", 0)

# SMS engine (sunshine.messaging). Provider rules change: every figure here is a setting.
SUNSHINE_SMS_BACKEND = env("SUNSHINE_SMS_BACKEND", "simulator")  # simulator | aliyun | console
SUNSHINE_SMS_SIMULATOR_URL = env("SUNSHINE_SMS_SIMULATOR_URL", "http://127.0.0.1:8025")
SUNSHINE_SMS_SIGNATURE = env("SUNSHINE_SMS_SIGNATURE", "阳光计生")
SUNSHINE_SMS_COST_PER_SEGMENT = env("SUNSHINE_SMS_COST_PER_SEGMENT", "0.06")  # yuan
SUNSHINE_SMS_QUIET_START = env("SUNSHINE_SMS_QUIET_START", "21:00")
SUNSHINE_SMS_QUIET_END = env("SUNSHINE_SMS_QUIET_END", "08:00")
SUNSHINE_SMS_PER_NUMBER_PER_DAY = env_int("SUNSHINE_SMS_PER_NUMBER_PER_DAY", 10)
SUNSHINE_SMS_MAX_ATTEMPTS = env_int("SUNSHINE_SMS_MAX_ATTEMPTS", 5)
SUNSHINE_SMS_LEASE_SECONDS = env_int("SUNSHINE_SMS_LEASE_SECONDS", 60)
SUNSHINE_SMS_BATCH = env_int("SUNSHINE_SMS_BATCH", 100)
# A campaign message joins the send queue (the claim index) this many hours before it is due.
SUNSHINE_SMS_READY_HOURS = env_int("SUNSHINE_SMS_READY_HOURS", 48)
SUNSHINE_SMS_HTTP_TIMEOUT = env_int("SUNSHINE_SMS_HTTP_TIMEOUT", 10)
# Receipts and replies are pushed to /sms/receipts/<token>/ and /sms/replies/<token>/: the
# token is the only thing that tells the provider's pushes from anyone's, so it is a secret,
# generated once into var/ unless set (a weak one is refused with the aliyun backend).
SUNSHINE_SMS_CALLBACK_TOKEN = _generated("SUNSHINE_SMS_CALLBACK_TOKEN", "sms_callback_token", 32)
ALIYUN_SMS_ACCESS_KEY_ID = env("ALIYUN_SMS_ACCESS_KEY_ID")
ALIYUN_SMS_ACCESS_KEY_SECRET = env("ALIYUN_SMS_ACCESS_KEY_SECRET")
ALIYUN_SMS_ENDPOINT = env("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
# SendBatchSms carries one OutId per call, not per message: off by default, so that every
# message's receipts name it and a resend after a crash is recognised.
ALIYUN_SMS_USE_BATCH = env_bool("ALIYUN_SMS_USE_BATCH", False)
ALIYUN_SMS_CONCURRENCY = env_int("ALIYUN_SMS_CONCURRENCY", 4)
# Request signing: v3 (ACS3-HMAC-SHA256, Alibaba's recommendation) or v2 (HMAC-SHA1).
ALIYUN_SMS_SIGNATURE_VERSION = env("ALIYUN_SMS_SIGNATURE_VERSION", "v3").strip().lower()

# 好孕好运 follow-ups (DOMAIN: the windows are unconfirmed, so they are settings): days after
# the risk assessment to ask whether the woman is pregnant, and days after the expected
# delivery date to ask the pregnancy outcome.
SUNSHINE_PRECHECK_EARLY_FOLLOWUP_DAYS = env_int("SUNSHINE_PRECHECK_EARLY_FOLLOWUP_DAYS", 90)
SUNSHINE_PRECHECK_OUTCOME_FOLLOWUP_DAYS = env_int("SUNSHINE_PRECHECK_OUTCOME_FOLLOWUP_DAYS", 14)

# Audit log hash chain (docs/audit.md): the sealer runs every minute in the task worker;
# `sunshine audit-verify` warns about entries still unsealed after this many minutes.
SUNSHINE_AUDIT_SEAL_GRACE_MINUTES = env_int("SUNSHINE_AUDIT_SEAL_GRACE_MINUTES", 10)
# Backups (`sunshine backup`): where archives go when --output is not given.
SUNSHINE_BACKUP_DIR = Path(env("SUNSHINE_BACKUP_DIR", str(VAR_DIR / "backups"))).resolve()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("SUNSHINE_LOG_LEVEL", "WARNING")},
}
