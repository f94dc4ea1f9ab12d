"""The proxy's one error hierarchy.

Every failure the proxy can meet is one of these classes. Foreign exceptions
(httpx, aiohttp, orjson, jsonschema) are translated into the most specific class
at the boundary where they occur, and the edge renders each class into the
legacy error body of the product family the caller speaks, in exactly one place
(``proxy.http.errors``). The ``kind`` of each class is the key of that family's
error table under ``mappings/<product>/errors.yaml``.

    ProxyError
    ├── ClientError                  the caller's request is at fault
    │   ├── BadCredentials           legacy username/password refused
    │   ├── Unauthorized             missing, malformed, forged or expired legacy token
    │   ├── Forbidden                token valid, product or tenant not allowed
    │   ├── ValidationFailed         body does not satisfy the legacy contract
    │   ├── NotFound                 unknown transaction id (or another tenant's)
    │   ├── PayloadTooLarge          body over the configured limit
    │   ├── UnsupportedMediaType     body in a content type the route does not take
    │   └── RateLimited              the tenant is over its request rate
    ├── Overloaded                   the proxy itself is saturated (in-flight bound)
    ├── UpstreamError                PDT (or a legacy backend) did not give a usable answer
    │   ├── UpstreamTimeout          the per-request deadline or a call timeout elapsed
    │   ├── UpstreamUnavailable      connection refused/reset, 5xx, 429, open breaker
    │   ├── UpstreamRejected         4xx that the proxy cannot turn into a legacy answer
    │   └── UpstreamMalformed        body not JSON, wrong shape, failed the PDT schema
    └── ConfigError                  configuration or mapping files are invalid (startup)
        └── MappingError             a mapping file, rule or table is invalid

Errors carry no request data in their messages: they end up in logs, and logs must
not hold personal data (LGPD). ``ValidationFailed.field_errors`` is the one
exception: it carries field *names* and fixed messages, never the values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

__all__ = [
    "BadCredentials",
    "ClientError",
    "ConfigError",
    "Forbidden",
    "MappingError",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "ProxyError",
    "RateLimited",
    "Unauthorized",
    "UnsupportedMediaType",
    "UpstreamError",
    "UpstreamMalformed",
    "UpstreamRejected",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "ValidationFailed",
]


class ProxyError(Exception):
    """Root of every error the proxy raises on purpose."""

    kind = "internal"


class ClientError(ProxyError):
    kind = "client"


class BadCredentials(ClientError):
    kind = "bad_credentials"


class Unauthorized(ClientError):
    kind = "unauthorized"


class Forbidden(ClientError):
    kind = "forbidden"


class NotFound(ClientError):
    kind = "not_found"


class PayloadTooLarge(ClientError):
    kind = "payload_too_large"


class UnsupportedMediaType(ClientError):
    kind = "unsupported_media_type"


class RateLimited(ClientError):
    """Over the tenant's rate; ``retry_after_s`` is when a token is next available."""

    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Overloaded(ProxyError):
    """Too many requests in flight in this worker: refused before any work is done."""

    kind = "overloaded"


class ValidationFailed(ClientError):
    """The legacy body broke its contract.

    ``field_errors`` maps a legacy field path (as the legacy API names it, e.g.
    ``Document`` or ``Phone.AreaCode``) to messages. It is rendered as ASP.NET's
    ``errors`` / ``ModelState`` object by the edge.
    """

    kind = "validation"

    def __init__(self, field_errors: Mapping[str, Sequence[str]]) -> None:
        super().__init__(f"invalid fields: {', '.join(sorted(field_errors))}")
        self.field_errors: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {name: tuple(messages) for name, messages in field_errors.items()}
        )


class UpstreamError(ProxyError):
    """PDT or a legacy backend failed. ``upstream`` names which (``pdt``, ``legacy``)."""

    kind = "upstream"

    def __init__(self, message: str, *, upstream: str = "pdt", call: str = "") -> None:
        super().__init__(message)
        self.upstream = upstream
        self.call = call


class UpstreamTimeout(UpstreamError):
    kind = "upstream_timeout"


class UpstreamUnavailable(UpstreamError):
    kind = "upstream_unavailable"


class UpstreamRejected(UpstreamError):
    """A 4xx the proxy did not expect. ``status`` is the upstream's status code."""

    kind = "upstream_rejected"

    def __init__(self, message: str, *, status: int, upstream: str = "pdt", call: str = "") -> None:
        super().__init__(message, upstream=upstream, call=call)
        self.status = status


class UpstreamMalformed(UpstreamError):
    kind = "upstream_malformed"


class ConfigError(ProxyError):
    """Configuration is unusable; the process must not start."""

    kind = "config"


class MappingError(ConfigError):
    """A mapping file is invalid. The message names the file, the rule and the reason."""

    kind = "mapping"

    def __init__(self, file: str, reason: str, *, rule: str | None = None) -> None:
        where = f"{file}: rule {rule!r}" if rule else file
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.rule = rule
        self.reason = reason
