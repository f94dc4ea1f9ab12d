"""The fleet run's legacy traffic: logins and transactions of the three products,
every request with its own ``X-Request-Id`` so the ledger can be reconciled with
what the clients were answered, one request at a time.

An answer counts as the proxy's only when it echoes the request id (nginx's own
502/504 pages do not): that is how a replica killed mid-request shows up as a
request nobody answered rather than as an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chaos_traffic import cpf

from proxy.mapping.examples import load_example

__all__ = ["PRODUCTS", "Load", "Product", "Sent", "User", "login", "request_id", "send"]

CLIENT_TIMEOUT_S: Final = 30.0
# Request ids of letters only: the proxy keeps a caller's X-Request-Id unless masking
# would change it, and a hex id holds, now and then, a run of digits shaped like a
# phone number or a CPF (3 ids in 652 in one run), which the proxy then replaces.
_LETTERS_FOR_DIGITS: Final = str.maketrans("0123456789", "ghijklmnop")


def request_id() -> str:
    return uuid.uuid4().hex.translate(_LETTERS_FOR_DIGITS)


@dataclass(frozen=True)
class Product:
    name: str
    login_path: str
    token_field: str
    call_path: str
    login_body: Callable[[str, str], dict[str, Any]]
    call_body: Callable[[random.Random], dict[str, Any]]


def _dt_body(rng: random.Random) -> dict[str, Any]:
    document = cpf(rng)
    return {
        "IdentifierId": f"fleet-{rng.randrange(10**9)}",
        "Document": f"{document[:3]}.{document[3:6]}.{document[6:9]}-{document[9:]}",
        "Email": f"p{rng.randrange(10**9)}@example.com",
        "Phone": {"AreaCode": "11", "Number": f"9{rng.randrange(10**7, 10**8)}"},
        "ZipCode": "06454-050",
    }


_FFR: Final = load_example("ffr", "score.request")
_MT: Final = load_example("mobile-trust", "transaction.request")


def _ffr_body(rng: random.Random) -> dict[str, Any]:
    return {**_FFR, "OrderID": f"FLEET_{rng.randrange(10**9)}", "Cpf": cpf(rng)}


def _mt_body(rng: random.Random) -> dict[str, Any]:
    # No SMS: one PDT call less per request, and no code sent to nobody.
    return {**_MT, "Document": cpf(rng), "BlockSmsSending": True}


PRODUCTS: Final = {
    "datatrust-v1": Product(
        "datatrust-v1",
        "/products/v1/authentication",
        "token",
        "/products/v1/datatrust",
        lambda user, password: {"Username": user, "Password": password},
        _dt_body,
    ),
    "ffr": Product(
        "ffr",
        "/v1/authenticate",
        "Token",
        "/v1/fintech/fraud/score",
        lambda user, password: {"name": user, "password": password},
        _ffr_body,
    ),
    "mobile-trust": Product(
        "mobile-trust",
        "/v1/authenticate",
        "Token",
        "/v1/mobiletrust/transaction",
        lambda user, password: {"name": user, "password": password},
        _mt_body,
    ),
}


@dataclass(frozen=True)
class User:
    """One legacy integration: a tenant, its product, a token it reuses."""

    tenant: str
    product: Product
    token: str


@dataclass(frozen=True)
class Sent:
    """One transaction request and its fate (``status`` None: no answer at all)."""

    tenant: str
    product: str
    request_id: str
    started: float
    finished: float
    status: int | None
    from_proxy: bool

    @property
    def failed(self) -> bool:
        """Not answered by a replica, or answered with a server error."""
        return not self.from_proxy or self.status is None or self.status >= 500


async def login(session: aiohttp.ClientSession, base: str, product: Product, user: str, password: str) -> str:
    async with session.post(base + product.login_path, json=product.login_body(user, password)) as answer:
        body = await answer.json(content_type=None)
        if answer.status != 200 or not isinstance(body, dict) or product.token_field not in body:
            raise RuntimeError(f"login of {user} on {base} answered {answer.status}")
        return str(body[product.token_field])


async def send(
    session: aiohttp.ClientSession,
    base: str,
    user: User,
    rng: random.Random,
    *,
    timeout_s: float | None = None,
) -> Sent:
    sent_id = request_id()
    headers = {"Authorization": f"Bearer {user.token}", "X-Request-Id": sent_id}
    started = time.monotonic()
    status: int | None = None
    from_proxy = False
    try:
        async with session.post(
            base + user.product.call_path,
            json=user.product.call_body(rng),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s or CLIENT_TIMEOUT_S),
        ) as answer:
            await answer.read()
            status = answer.status
            from_proxy = answer.headers.get("x-request-id") == sent_id
    except (aiohttp.ClientError, TimeoutError):
        pass
    return Sent(user.tenant, user.product.name, sent_id, started, time.monotonic(), status, from_proxy)


@dataclass
class Load:
    """Paced closed loops, one per user, until ``stop`` is set: steady traffic while
    a check kills, restarts or starves something."""

    session: aiohttp.ClientSession
    base: str
    users: Sequence[User]
    rate_per_s: float
    seed: int = 11
    sent: list[Sent] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> list[Sent]:
        # Each loop waits out its share of the rate, so a slow fleet is not also
        # flooded (the run measures behaviour, not saturation).
        spacing = len(self.users) / self.rate_per_s
        await asyncio.gather(
            *(self._one(user, index, spacing, stop) for index, user in enumerate(self.users))
        )
        return self.sent

    async def _one(self, user: User, index: int, spacing: float, stop: asyncio.Event) -> None:
        rng = random.Random(self.seed * 1000 + index)
        while not stop.is_set():
            began = time.monotonic()
            self.sent.append(await send(self.session, self.base, user, rng))
            left = spacing - (time.monotonic() - began)
            if left > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=left)
