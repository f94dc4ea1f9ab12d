"""The upstreams: the transport seam and its router, the token cache and the PDT client."""

from proxy.credentials import PdtCredential
from proxy.upstream._errors import MAX_BODY_BYTES
from proxy.upstream.pdt import PdtCall, PdtClient
from proxy.upstream.seam import SendLimits, UpstreamAnswer, UpstreamTransport
from proxy.upstream.tokens import IssuedToken, TokenCache
from proxy.upstream.transport import (
    SIMULATOR_BASE_URL,
    HostRoutingTransport,
    build_transport,
    resolve_base_url,
)

__all__ = [
    "MAX_BODY_BYTES",
    "SIMULATOR_BASE_URL",
    "HostRoutingTransport",
    "IssuedToken",
    "PdtCall",
    "PdtClient",
    "PdtCredential",
    "SendLimits",
    "TokenCache",
    "UpstreamAnswer",
    "UpstreamTransport",
    "build_transport",
    "resolve_base_url",
]
