"""A tenant's PDT account: what the tenant file declares and the PDT client signs in with.

Kept apart from both: the tenant directory (``proxy.tenants``) reads credentials and
the PDT client (``proxy.upstream.pdt``) uses them, and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from proxy.config import Environment

__all__ = ["PdtCredential"]


@dataclass(frozen=True, slots=True)
class PdtCredential:
    """One PDT account of one tenant in one environment; also the token cache key."""

    environment: Environment
    username: str
    password: str = field(repr=False)
