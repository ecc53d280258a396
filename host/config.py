"""Host configuration: one pydantic model tree, loaded from YAML with ``${ENV}`` expansion.

Every field has an embedded default, so ``haltguard serve`` runs with no file at all
(in-process revocation and rate limits, the shipped int8 model on ONNX Runtime CPU, a
generated dev secret). Unknown keys are errors: a typo in a security setting must not
silently fall back to a default.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from haltguard.kernel.config import HaltConfig
from haltguard.kernel.errors import FieldError
from haltguard.kernel.presets import DEFAULT_PRESET, PRESET_NAMES, resolve_halt

__all__ = ["HostConfig", "ConfigFileError", "load_config", "expand_env", "ALL_SCOPES", "DEFAULT_SCOPES", "MIN_KEY_LENGTH"]

ALL_SCOPES = ("detect", "transform", "rehydrate", "score", "review", "stream", "proxy", "metrics", "admin")
Scope = Literal["detect", "transform", "rehydrate", "score", "review", "stream", "proxy", "metrics", "admin"]
# what a key that names no scopes gets: every data route, never revocation (admin) or metrics
DEFAULT_SCOPES = tuple(s for s in ALL_SCOPES if s not in ("admin", "metrics"))
MIN_KEY_LENGTH = 16


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_body_bytes: int = Field(1_048_576, ge=1024, description="bodies over this are refused with 413 before parsing")
    max_text_chars: int = Field(200_000, ge=1)
    max_pairs: int = Field(256, ge=1, description="pairs per /v1/score request")
    max_batch_items: int = Field(64, ge=1, description="items per /v1/batch request")
    max_review_pairs: int = Field(4096, ge=1, description="claims x evidence windows one /v1/review may score")
    demo: bool = Field(True, description="serve the browser bundle and demo page at /")
    cors_origins: list[str] = Field(default_factory=list, description=(
        "origins whose pages may call the API from the browser (exact, e.g. https://app.example.com); "
        "empty: none besides the host's own"))
    bundle_dir: str | None = Field(None, description=(
        "built wasm bundle; default: HALTGUARD_BUNDLE, else build/wasm-bundle in a checkout, else the user cache"))


class ApiKey(_Strict):
    name: str
    key: str | None = Field(None, description="the raw key (use ${ENV}); hashed at load, never kept")
    key_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    scopes: list[Scope] = Field(default_factory=lambda: list(DEFAULT_SCOPES))  # type: ignore[arg-type]
    tenant: str | None = None
    policy: str | None = Field(None, description=(
        "the named policy the proxy applies to this key's requests (default: detector.default_policy)"))

    @model_validator(mode="after")
    def _one_key(self) -> ApiKey:
        if (self.key is None) == (self.key_sha256 is None):
            raise ValueError("give exactly one of key or key_sha256")
        if self.key is not None and len(self.key) < MIN_KEY_LENGTH:
            raise ValueError(f"key must be at least {MIN_KEY_LENGTH} characters")
        return self


class AuthConfig(_Strict):
    open_access: bool = Field(False, description="no key needed at all; only when set explicitly")
    keys: list[ApiKey] = Field(default_factory=list)
    env_keys: str | None = Field("HALTGUARD_API_KEYS", description=(
        "env var with name:key[:scope+scope[:tenant]],… entries; without scopes a key gets every data scope, "
        "not admin or metrics"))


class SessionKey(_Strict):
    kid: str = Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")
    secret: str = Field(min_length=32)


class SessionConfig(_Strict):
    keys: list[SessionKey] = Field(default_factory=list, description="newest first encrypts; all decrypt")
    ttl_s: int = Field(86_400, ge=1)
    store: Literal["client", "redis"] = Field("client", description="redis: the host keeps the blob, clients hold an id")
    default_tenant: str = "default"


class RevocationConfig(_Strict):
    backend: Literal["memory", "file", "redis"] = "memory"
    path: str | None = None
    hmac_secret: str | None = Field(None, min_length=32, description=(
        "keys the stored digests; default: derived from the oldest session key, so set this "
        "before you ever retire that key, or earlier revocations stop matching"))

    @model_validator(mode="after")
    def _path(self) -> RevocationConfig:
        if self.backend == "file" and not self.path:
            raise ValueError("backend 'file' needs path")
        return self


class RateLimitConfig(_Strict):
    enabled: bool = True
    backend: Literal["memory", "redis"] = "memory"
    rate: float = Field(50.0, gt=0, description="tokens per second per key")
    burst: int = Field(100, ge=1)
    pair_cost: float = Field(1 / 16, ge=0, description=(
        "tokens per model pair a request may score, charged up front on its worst case (pairs or sentences x "
        "evidence windows per claim), besides the 1 every request costs; and per judged sentence of a stream"))


class ScorerConfig(_Strict):
    engine: Literal["onnx", "torch", "heuristic"] = "onnx"
    model_dir: str | None = Field(None, description=(
        "default: HALTGUARD_MODEL, else the installed haltguard-model-default, else the checkout's models/default"))
    variant: Literal["int8", "fp16", "fp32"] = "int8"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["float32", "float16"] = "float32"
    threads: int | None = Field(None, ge=1)
    threshold: float | None = Field(None, ge=0, le=1, description="default: the model manifest's")
    max_batch: int = Field(32, ge=1)
    max_wait_ms: float = Field(2.0, ge=0)
    cache_size: int = Field(10_000, ge=0)
    cache_ttl_s: float = Field(600.0, gt=0)
    fallback: Literal["none", "heuristic"] = Field("none", description=(
        "none: a model that cannot load stops the host with the reason; heuristic: serve the model-free "
        "scorer instead (reported by /v1/ready)"))


class RedisConfig(_Strict):
    url: str | None = None
    prefix: str = "haltguard:"


class AuditConfig(_Strict):
    path: str | None = None
    hmac_secret: str | None = Field(None, min_length=32, description=(
        "keys the chain (HMAC-SHA256; use ${ENV}): a log rewritten and re-chained without this secret fails "
        "`haltguard audit verify --key-env`; it is never written to the log"))


class NamesConfig(_Strict):
    """The name model (names, places, organisations, addresses) that policies in detector_mode
    ``both`` (the default) or ``ner`` use beside the recognizers."""

    enabled: bool = Field(True, description="false: the recognizers only (policies in detector_mode ner are refused)")
    engine: Literal["onnx", "spacy"] = Field("onnx", description=(
        "onnx: haltguard's name model; spacy: spaCy's en_core_web_sm (the spacy extra; no addresses)"))
    model_dir: str | None = Field(None, description=(
        "default: HALTGUARD_NAMES_MODEL, else the installed haltguard-model-default's names/, else the checkout's models/names"))
    variant: Literal["int8", "fp32"] = "int8"
    threads: int | None = Field(None, ge=1)
    min_score: float = Field(0.5, ge=0, le=1, description="entities scored below this are dropped")


class PolicyConfig(_Strict):
    policies_dir: str | None = Field(None, description="*.json or *.yaml policies, by file stem")
    default_policy: str | None = None
    client_policies: Literal["tighten", "any"] = Field("tighten", description=(
        "tighten: a request's inline policy may only protect more than the default policy (refused with "
        "policy_loosens otherwise); any: clients may loosen it (trusted clients only)"))
    allow_client_regex: bool = Field(False, description=(
        "accept custom_recognizers in a request's inline policy (client-written regexes run on the host's "
        "event loop: one with catastrophic backtracking stalls it); operator policy files may always have them"))
    names: NamesConfig = Field(default_factory=NamesConfig)


class OutputProtectionConfig(_Strict):
    """Overrides every policy's output protection (null keeps the policy's own)."""

    mode: Literal["off", "monitor", "strict"] | None = None
    action: Literal["redact", "block"] | None = None


class PromptSecurityConfig(_Strict):
    """Overrides every policy's prompt-security rule (null keeps the policy's own)."""

    threshold: float | None = Field(None, ge=0, le=1)
    action: Literal["allow", "strip", "block"] | None = None


class Upstream(_Strict):
    """An OpenAI-compatible server the proxy forwards chat completions to (OpenAI, vLLM, Ollama, llama.cpp)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    base_url: str = Field(pattern=r"^https?://", description="the API root, as the openai SDK's base_url: http://host:port/v1")
    api_key_env: str | None = Field(None, description="environment variable holding the upstream's API key")
    models: list[str] | None = Field(None, description="models routed here; null: every model no other upstream lists")
    timeout_s: float = Field(120.0, gt=0, description="the longest wait for the upstream's next byte")


class ProxyConfig(_Strict):
    """``POST /v1/chat/completions`` and ``GET /v1/models``: the OpenAI-compatible guarding proxy.

    ``HALTGUARD_UPSTREAM_URL`` (and ``HALTGUARD_UPSTREAM_API_KEY``) alone add an upstream named
    ``default`` that takes every model when no upstream is configured here.
    """

    upstreams: list[Upstream] = Field(default_factory=list)
    connect_timeout_s: float = Field(5.0, gt=0)
    max_messages: int = Field(256, ge=1, description="messages per chat request")

    @field_validator("upstreams")
    @classmethod
    def _unique_names(cls, v: list[Upstream]) -> list[Upstream]:
        names = [u.name for u in v]
        if len(set(names)) != len(names):
            raise ValueError("upstream names must be unique")
        return v


# a validator's message that names a field below its own: "@sub.field: why" (see _format_errors)
_SUBFIELD = "@"
assert PRESET_NAMES == ("strict", "balanced", "chat") and DEFAULT_PRESET == "balanced", "HaltDefaults mirrors the kernel"


class HaltDefaults(_Strict):
    """The halt config a /v1/stream client gets when it sends none: a named preset, optionally
    overridden field by field (``config``: any ``HaltConfig`` fields, validated with the rest)."""

    preset: Literal["strict", "balanced", "chat"] = "balanced"
    config: dict[str, Any] | None = Field(None, description="HaltConfig fields over the preset's")

    def resolved(self, threshold: float | None = None) -> HaltConfig:
        """The halt config at the scorer's support ``threshold`` (presets are relative to it)."""
        return resolve_halt({"preset": self.preset, **(self.config or {})}, threshold=threshold)

    @model_validator(mode="after")
    def _valid_halt(self) -> HaltDefaults:
        try:
            self.resolved()
        except FieldError as exc:
            raise ValueError(f"{_SUBFIELD}config.{exc.field}: {exc.why}") from None
        return self


class HostConfig(_Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    session: SessionConfig = Field(default_factory=SessionConfig)
    revocation: RevocationConfig = Field(default_factory=RevocationConfig)
    detector: PolicyConfig = Field(default_factory=PolicyConfig)
    output_protection: OutputProtectionConfig = Field(default_factory=OutputProtectionConfig)
    prompt_security: PromptSecurityConfig = Field(default_factory=PromptSecurityConfig)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    scorer: ScorerConfig = Field(default_factory=ScorerConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    halt: HaltDefaults = Field(default_factory=HaltDefaults)
    proxy: ProxyConfig = Field(default_factory=ProxyConfig)

    @field_validator("session")
    @classmethod
    def _unique_kids(cls, v: SessionConfig) -> SessionConfig:
        kids = [k.kid for k in v.keys]
        if len(set(kids)) != len(kids):
            raise ValueError("session key ids must be unique")
        return v

    @model_validator(mode="after")
    def _redis_needed(self) -> HostConfig:
        wants = [name for name, on in (("revocation.backend", self.revocation.backend == "redis"),
                                       ("rate_limit.backend", self.rate_limit.backend == "redis"),
                                       ("session.store", self.session.store == "redis")) if on]
        if wants and not self.redis.url:
            raise ValueError(f"{', '.join(wants)} = redis needs redis.url")
        return self


class ConfigFileError(ValueError):
    """A config file that cannot be read, parsed or validated; the message names the field."""


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: Any, env: dict[str, str] | None = None) -> Any:
    """Replace ``${NAME}`` / ``${NAME:-default}`` in every string; an unset name without default is an error."""
    env = dict(os.environ) if env is None else env
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigFileError(f"environment variable {name} is not set (use ${{{name}:-default}} for a default)")
        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: expand_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, env) for v in value]
    return value


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if msg.startswith(_SUBFIELD) and ": " in msg:  # a nested field the validator named itself
            sub, msg = msg[len(_SUBFIELD):].split(": ", 1)
            loc = f"{loc}.{sub}" if loc else sub
        lines.append(f"  {loc or '(top level)'}: {msg}")
    return "invalid host config:\n" + "\n".join(lines)


def load_config(path: str | Path | None = None, *, data: dict[str, Any] | None = None,
                env: dict[str, str] | None = None) -> HostConfig:
    """Embedded defaults, overridden by the YAML file (or ``data``), with ``${ENV}`` expanded."""
    raw: Any = data or {}
    if path is not None:
        import yaml

        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigFileError(f"cannot read config {path}: {exc.strerror}") from None
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigFileError(f"config {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigFileError("the config must be a mapping at the top level")
    try:
        return HostConfig.model_validate(expand_env(raw, env))
    except ValidationError as exc:
        raise ConfigFileError(_format_errors(exc)) from None
