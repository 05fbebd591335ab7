"""Typed settings: a TOML file plus ``READERPASS_*`` environment overrides.

Every value is validated when the program starts. A bad or missing value stops
it with :class:`SettingsError`, whose message is one line naming the key, where
the value came from and what is wrong with it.

Environment overrides follow the shape of the file: ``[database] url`` is
``READERPASS_DATABASE_URL``; a top-level key ``instance_dir`` is
``READERPASS_INSTANCE_DIR``. Lists are written comma-separated in the environment.
"""

from __future__ import annotations

import base64
import binascii
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

ENV_PREFIX = "READERPASS_"
CONFIG_ENV = "READERPASS_CONFIG"
PLACEHOLDER = "CHANGE-ME"
PLACEHOLDER_HINT = "still the example placeholder; generate one with `readerpass config init`"


class SettingsError(Exception):
    """The configuration cannot be used; ``str()`` is the one line to show."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def decode_key(value: str, *, minimum: int = 32) -> bytes:
    """Decode a base64 (standard or URL-safe) key of at least ``minimum`` bytes."""
    if PLACEHOLDER in value:
        raise ValueError(PLACEHOLDER_HINT)
    try:
        raw = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError) as exc:
        raise ValueError("is not valid base64") from exc
    if len(raw) < minimum:
        raise ValueError(f"must decode to at least {minimum} bytes, got {len(raw)}")
    return raw


class ProvinceSettings(_Section):
    code: str = Field(pattern=r"^[A-Z]{2,8}$", description="short upper-case province code")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "Asia/Shanghai"
    phone_region: str = Field(default="CN", pattern=r"^[A-Z]{2}$")

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region the phone-number library knows")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class DatabaseSettings(_Section):
    url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in the instance dir")
    echo: bool = False
    pool_size: int = Field(default=5, ge=1, le=200)


class RedisSettings(_Section):
    url: str = Field(default="", description="empty = in-process rate limits")

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class SecuritySettings(_Section):
    secret_key: SecretStr
    pii_keys: list[SecretStr] = Field(min_length=1)
    hash_key: SecretStr
    session_cookie_secure: bool = True
    #: Argon2id cost (RFC 9106). Lower only for tests and demos on small machines.
    argon2_time_cost: int = Field(default=3, ge=1, le=10)
    argon2_memory_kib: int = Field(default=65536, ge=1024, le=1048576)

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if PLACEHOLDER in raw:
            raise ValueError(PLACEHOLDER_HINT)
        if len(raw) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("pii_keys")
    @classmethod
    def _pii_keys(cls, values: list[SecretStr]) -> list[SecretStr]:
        seen: set[str] = set()
        for item in values:
            kid, sep, key = item.get_secret_value().partition(":")
            if not sep or not kid.isalnum() or len(kid) > 16:
                raise ValueError("each entry must be 'KEYID:BASE64KEY' with an alphanumeric key id")
            if kid in seen:
                raise ValueError(f"key id {kid!r} appears twice")
            seen.add(kid)
            raw = decode_key(key)
            if len(raw) != 32:
                raise ValueError("AES-256-GCM keys must be exactly 32 bytes")
        return values

    @field_validator("hash_key")
    @classmethod
    def _hash_key(cls, value: SecretStr) -> SecretStr:
        decode_key(value.get_secret_value())
        return value

    def pii_keyring(self) -> list[tuple[str, bytes]]:
        """(key id, key) pairs; the first encrypts, all decrypt."""
        ring = []
        for item in self.pii_keys:
            kid, _, key = item.get_secret_value().partition(":")
            ring.append((kid, decode_key(key)))
        return ring

    def hash_key_bytes(self) -> bytes:
        return decode_key(self.hash_key.get_secret_value())


class RegistrationSettings(_Section):
    guardian_required_under: int = Field(default=14, ge=0, le=18)
    adult_age: int = Field(default=18, ge=14, le=21)
    card_validity_years: int = Field(default=5, ge=1, le=20)
    password_min_length: int = Field(default=8, ge=8, le=64)


class MessagingSettings(_Section):
    sender: Literal["outbox", "http"] = "outbox"
    outbox_path: str = Field(default="", description="empty = outbox.jsonl in the instance dir")
    http_url: str = ""
    http_token: SecretStr | None = None
    http_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    code_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    code_max_attempts: int = Field(default=5, ge=1, le=20)
    resend_interval_seconds: int = Field(default=60, ge=0, le=3600)
    max_sends_per_day: int = Field(default=10, ge=1, le=100)

    @field_validator("http_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class ServerSettings(_Section):
    public_url: str = "http://127.0.0.1:8000"
    bind: str = "127.0.0.1:8000"
    workers: int = Field(default=2, ge=1, le=64)
    threads: int = Field(default=1, ge=1, le=64)
    client_timeout_seconds: int = Field(default=30, ge=1, le=600)
    max_request_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


class OidcSettings(_Section):
    """The OpenID Connect provider (DESIGN "OIDC provider"). Lifetimes in seconds."""

    issuer: str = Field(default="", description="empty = [server] public_url")
    signing_alg: Literal["ES256"] = "ES256"
    access_token_seconds: int = Field(default=600, ge=60, le=86400)
    id_token_seconds: int = Field(default=600, ge=60, le=86400)
    refresh_token_seconds: int = Field(default=30 * 86400, ge=600, le=365 * 86400)
    code_seconds: int = Field(default=60, ge=10, le=600)
    session_seconds: int = Field(default=8 * 3600, ge=300, le=30 * 86400)
    device_code_seconds: int = Field(default=600, ge=60, le=3600)
    device_poll_interval: int = Field(default=5, ge=1, le=60)
    #: ``readerpass oidc purge`` deletes device codes this long after they expired or
    #: were used.
    device_code_retention_hours: int = Field(default=24, ge=1, le=90 * 24)
    #: How long relying parties may cache the JWKS; a next key must have been
    #: published at least this long before it may start signing.
    jwks_max_age_seconds: int = Field(default=3600, ge=0, le=7 * 86400)
    #: Failed logins per account before it is locked for ``lockout_seconds``.
    login_max_failures: int = Field(default=5, ge=1, le=100)
    lockout_seconds: int = Field(default=900, ge=10, le=86400)
    #: Login attempts per client address per minute.
    login_attempts_per_address: int = Field(default=30, ge=1, le=10000)
    #: Wrong device user codes per client address per minute (RFC 8628 5.1).
    user_code_failures_per_address: int = Field(default=10, ge=1, le=1000)
    #: Back-channel logout: attempts before giving up, first retry delay (doubles).
    logout_max_attempts: int = Field(default=10, ge=1, le=50)
    logout_retry_seconds: int = Field(default=30, ge=1, le=3600)
    logout_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        if "?" in value or "#" in value:
            raise ValueError("must not have a query or fragment (OpenID Connect Discovery 3)")
        return value.rstrip("/")


class CardsSettings(_Section):
    """Reader cards and gates (DESIGN "Reader card tokens"). Times in seconds."""

    #: The card page shows a new QR code every slot; a token lives two slots.
    slot_seconds: int = Field(default=60, ge=30, le=300)
    #: Slots per batch a phone fetches for offline use (1440 x 60 s = 24 h).
    batch_slots: int = Field(default=1440, ge=1, le=7 * 24 * 60)
    #: Batches a reader may fetch per hour (each costs one signature per slot).
    batches_per_hour: int = Field(default=12, ge=1, le=1000)
    #: Clock difference tolerated between phones and gates.
    clock_skew_seconds: int = Field(default=30, ge=0, le=600)
    #: Oldest signed trust/status data gates accept; the service re-signs every third
    #: of it, and a new card key is published this long before it signs.
    max_age_seconds: int = Field(default=900, ge=60, le=7 * 86400)
    #: How long status-list deltas stay available (older gates get the full list).
    delta_history_seconds: int = Field(default=2 * 86400, ge=3600, le=90 * 86400)
    #: The online verification endpoint re-reads the lists at most this often.
    online_refresh_seconds: int = Field(default=2, ge=0, le=300)
    #: Each worker keeps a verified gate token this long (never past its expiry), so a
    #: revocation or client removal made elsewhere reaches the online endpoint within
    #: it; 0 checks the token on every request.
    gate_token_cache_seconds: int = Field(default=30, ge=0, le=30)
    #: Online verifications per gate client per minute (rate limit).
    verifications_per_minute: int = Field(default=20000, ge=1, le=10_000_000)
    #: Card sharing: the same card at two libraries within this many minutes.
    sharing_window_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    #: After `cards anchor rotate`, the old anchor is kept this long before
    #: `cards anchor retire` erases its private part.
    anchor_overlap_seconds: int = Field(default=30 * 86400, ge=3600, le=365 * 86400)


class DuplicatesSettings(_Section):
    """Duplicate detection (DESIGN "Duplicates and merge"). Scores are match weights
    in bits: log2 of how much likelier the agreements are for one person than for two."""

    #: Pairs scoring at least this go to the review queue.
    review_threshold: float = Field(default=4.0, ge=-50, le=100)
    #: Blocks sharing one key with more readers than this are skipped and reported
    #: (very common name and birth date, a school's shared phone).
    max_block: int = Field(default=100, ge=2, le=100_000)
    #: A JSON file of match parameters to use instead of estimating them from the data.
    parameters_file: str = Field(default="", description="empty = estimate at each scan")
    #: Check each new reader against existing ones at registration and import.
    check_online: bool = True


class Settings(BaseModel):
    """The whole configuration of one ReaderPass installation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instance_dir: str = Field(default="instance", description="relative to the config file")
    province: ProvinceSettings
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    security: SecuritySettings
    registration: RegistrationSettings = RegistrationSettings()
    messaging: MessagingSettings = MessagingSettings()
    server: ServerSettings = ServerSettings()
    oidc: OidcSettings = OidcSettings()
    cards: CardsSettings = CardsSettings()
    duplicates: DuplicatesSettings = DuplicatesSettings()

    @property
    def instance_path(self) -> Path:
        return Path(self.instance_dir)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.instance_path / 'readerpass.db'}"

    @property
    def issuer(self) -> str:
        """The OpenID Connect issuer identifier."""
        return self.oidc.issuer or self.server.public_url

    @property
    def outbox_path(self) -> Path:
        return Path(self.messaging.outbox_path or self.instance_path / "outbox.jsonl")


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Collect overrides for every known key; return them and key -> variable name."""
    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub in annotation.model_fields:
                var = f"{ENV_PREFIX}{name}_{sub}".upper()
                if var in environ:
                    value: Any = environ[var]
                    if sub == "pii_keys":
                        value = [part.strip() for part in value.split(",") if part.strip()]
                    data.setdefault(name, {})[sub] = value
                    sources[f"{name}.{sub}"] = var
        else:
            var = f"{ENV_PREFIX}{name}".upper()
            if var in environ:
                data[name] = environ[var]
                sources[name] = var
    return data, sources


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_settings(
    data: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    origin: str = "settings",
) -> Settings:
    """Validate ``data`` (as read from TOML) with environment overrides applied."""
    overrides, sources = _env_overrides(os.environ if environ is None else environ)
    merged = _merge(dict(data), overrides)
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
        where = sources.get(key, origin)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required but missing"
        elif error["type"] == "extra_forbidden":
            message = "is not a known setting"
        name = key or "(top level)"
        raise SettingsError(f"config error: {name}: {message} (in {where})") from exc
    if base_dir is not None and not Path(settings.instance_dir).is_absolute():
        settings = settings.model_copy(
            update={"instance_dir": str((base_dir / settings.instance_dir).resolve())}
        )
    return settings


def load_settings(path: str | os.PathLike[str] | None = None, *,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file at ``path`` (or ``$READERPASS_CONFIG``) and validate it."""
    env = os.environ if environ is None else environ
    chosen = path or env.get(CONFIG_ENV)
    if not chosen:
        default = Path("instance") / "readerpass.toml"
        if not default.exists():
            raise SettingsError(
                "config error: no configuration file: pass --config PATH or set "
                f"{CONFIG_ENV} (or run `readerpass demo` to create one in ./instance)"
            )
        chosen = default
    file = Path(chosen)
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"config error: file {file} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config error: {file} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"config error: cannot read {file}: {exc.strerror}") from None
    return parse_settings(data, environ=env, base_dir=file.resolve().parent, origin=str(file))
