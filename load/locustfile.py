"""Locust load test: legacy clients of the three products against any proxy URL.

    locust -f load/locustfile.py --host http://127.0.0.1:8080 --headless -u 20 -r 10 -t 60s

Each simulated user is one legacy integration of one product: it logs in once the
way that product's clients did and reuses its token (logging in again only after
a 401, as a client does when its token expires). The request mix, by user-class
weight times task weight (it holds from about 20 users up; locust spreads users
over the classes by weight):

- Data Trust v1: create ~62 %, GET of one of its own transactions ~15 %;
- Financial Fraud Radar: score ~10 % (the documented example, a fresh Cpf each);
- Mobile Trust: create ~10 % (the client-code example, ``BlockSmsSending`` true);
- ~2 % invalid bodies (a CPF with a wrong check digit), counted as successes when
  the proxy answers the expected 400 and as failures otherwise.

Every CPF is generated with correct check digits, so the upstream sees many people
rather than one cached answer. Credentials default to the demo tenants (usable on
the embedded defaults) and are overridden by ``LOAD_DT_USERNAME`` /
``LOAD_DT_PASSWORD``, ``LOAD_FFR_USERNAME`` / ``LOAD_FFR_PASSWORD`` and
``LOAD_MT_USERNAME`` / ``LOAD_MT_PASSWORD``. ``LOAD_ENVIRONMENT=hml`` sends
everything to the HML path prefixes; ``LOAD_MAX_WAIT_S`` (default 1) bounds each
user's think time between requests (0: back to back).
"""

# Locust is the optional ``load`` extra: where it is missing (the README's install),
# mypy sees its classes as Any, and a strict run must still pass on this file.
# mypy: disallow-subclassing-any=False, disallow-untyped-decorators=False

from __future__ import annotations

import os
import random
import uuid
from collections import deque
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, task

from proxy.mapping.examples import load_example

_FFR_EXAMPLE = load_example("ffr", "score.request")
_MT_EXAMPLE = load_example("mobile-trust", "transaction.request")

__all__ = ["DataTrustUser", "FfrUser", "MobileTrustUser", "cpf", "with_wrong_check_digit"]

_HML = os.environ.get("LOAD_ENVIRONMENT", "prd").lower() == "hml"
# The HML hosts served the same API under an /api prefix (README, "What it serves").
_DT = "/api/products/v1" if _HML else "/products/v1"
_V1 = "/api/v1" if _HML else "/v1"
# A client GETs transactions it created recently; a bounded memory is enough.
_REMEMBERED_IDS = 50


def _credentials(product: str, default_user: str) -> tuple[str, str]:
    return (
        os.environ.get(f"LOAD_{product}_USERNAME", default_user),
        os.environ.get(f"LOAD_{product}_PASSWORD", f"{default_user}-secret"),
    )


def _check_digit(digits: list[int]) -> int:
    """The CPF's modulo-11 check digit over ``digits`` (weights count down to 2)."""
    total = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True))
    rest = total * 10 % 11
    return 0 if rest == 10 else rest


def cpf() -> str:
    """A valid CPF (11 digits, correct check digits, not one repeated digit)."""
    while True:
        digits = [random.randrange(10) for _ in range(9)]
        if len(set(digits)) > 1:  # 111.111.111-11 and the like pass the modulus but are invalid
            break
    digits.append(_check_digit(digits))
    digits.append(_check_digit(digits))
    return "".join(map(str, digits))


def with_wrong_check_digit(valid: str) -> str:
    """``valid`` with its last check digit changed: always invalid (the digit is unique)."""
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


def _formatted(document: str) -> str:
    """123.456.789-09: Data Trust v1 clients sent the CPF either way."""
    return f"{document[:3]}.{document[3:6]}.{document[6:9]}-{document[9:]}"


class _LegacyUser(FastHttpUser):
    """One legacy integration: logs in on start, sends with its token, checks answers."""

    abstract = True
    # Think time of an integration between two of its end customers.
    wait_time = between(0, float(os.environ.get("LOAD_MAX_WAIT_S", "1")))
    token: str = ""

    def on_start(self) -> None:
        self.token = self.login()

    def login(self) -> str:
        raise NotImplementedError

    def send(
        self, method: str, path: str, name: str, *, body: dict[str, Any] | None, status: int, key: str
    ) -> dict[str, Any] | None:
        """Send with the token; success only on ``status`` with ``key`` in the JSON answer."""
        headers = {"Authorization": f"Bearer {self.token}"}
        with self.client.request(
            method, path, name=name, json=body, headers=headers, catch_response=True
        ) as answer:
            if answer.status_code == 401:
                # Token expired (a run longer than its TTL): fail this one, log in again.
                answer.failure("401: logging in again")
                self.token = self.login()
                return None
            return _checked(answer, status, key)

    def v1_login(self, product: str, default_user: str, *, form: bool) -> str:
        """The FFR / Mobile Trust login (one endpoint for the family), as JSON or as a form."""
        username, password = _credentials(product, default_user)
        credentials = {"name": username, "password": password}
        if form:
            kwargs: dict[str, Any] = {
                "data": urlencode(credentials),
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            }
        else:
            kwargs = {"json": credentials}
        name = f"v1 authenticate ({'form' if form else 'JSON'})"
        with self.client.post(f"{_V1}/authenticate", name=name, catch_response=True, **kwargs) as answer:
            found = _checked(answer, 200, "Token")
        return str(found["Token"]) if found else ""


def _checked(answer: Any, status: int, key: str) -> dict[str, Any] | None:
    """Mark ``answer`` a success or a failure; its JSON object when it is a success."""
    if answer.status_code != status:
        answer.failure(f"expected {status}, got {answer.status_code}: {answer.text[:200]}")
        return None
    try:
        payload = answer.json()
    except ValueError:
        answer.failure(f"{status} without a JSON body")
        return None
    if not isinstance(payload, dict) or key not in payload:
        answer.failure(f"{status} without {key!r}")
        return None
    answer.success()
    return payload


class DataTrustUser(_LegacyUser):
    """A Data Trust v1 integration: creates transactions and reads some back."""

    weight = 77

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.created: deque[str] = deque(maxlen=_REMEMBERED_IDS)

    def login(self) -> str:
        username, password = _credentials("DT", "demo-dt")
        with self.client.post(
            f"{_DT}/authentication",
            name="DT v1 authentication",
            json={"Username": username, "Password": password},
            catch_response=True,
        ) as answer:
            found = _checked(answer, 200, "token")
        return str(found["token"]) if found else ""

    # 40:10 keeps the 60:15 create/read ratio; 1 request in 51 is invalid (~2 %).
    @task(40)
    def create(self) -> None:
        answer = self.send(
            "POST", f"{_DT}/datatrust", "DT v1 POST /datatrust", body=_dt_body(cpf()), status=200, key="score"
        )
        if answer:
            self.created.append(str(answer["transactionId"]))

    @task(10)
    def read(self) -> None:
        if not self.created:
            self.create()  # nothing of its own to read yet
            return
        transaction = random.choice(self.created)
        self.send(
            "GET",
            f"{_DT}/datatrust/{transaction}",
            "DT v1 GET /datatrust/{id}",
            body=None,
            status=200,
            key="score",
        )

    @task(1)
    def invalid(self) -> None:
        body = _dt_body(with_wrong_check_digit(cpf()))
        self.send(
            "POST",
            f"{_DT}/datatrust",
            "DT v1 POST /datatrust (invalid CPF)",
            body=body,
            status=400,
            key="errors",
        )


def _dt_body(document: str) -> dict[str, Any]:
    return {
        "IdentifierId": f"pedido-{uuid.uuid4().hex[:12]}",
        "Document": _formatted(document),
        "Email": "maria@example.com",
        "Phone": {"AreaCode": "11", "Number": f"9{random.randrange(10**8):08d}"},
        "ZipCode": "06454-050",
    }


class FfrUser(_LegacyUser):
    """A Financial Fraud Radar integration (its clients logged in with JSON)."""

    weight = 10

    def login(self) -> str:
        return self.v1_login("FFR", "demo-ffr", form=False)

    @task(49)
    def score(self) -> None:
        path = f"{_V1}/fintech/fraud/score"
        self.send(
            "POST", path, "FFR POST /fintech/fraud/score", body=_ffr_body(cpf()), status=200, key="Score"
        )

    @task(1)
    def invalid(self) -> None:
        body = _ffr_body(with_wrong_check_digit(cpf()))
        path = f"{_V1}/fintech/fraud/score"
        self.send(
            "POST", path, "FFR POST /fintech/fraud/score (invalid Cpf)", body=body, status=400, key="Message"
        )


def _ffr_body(document: str) -> dict[str, Any]:
    """The public example of the FFR page (mappings/ffr/examples), with this order's Cpf and id."""
    return {**_FFR_EXAMPLE, "OrderID": f"FINTECH_{uuid.uuid4().hex[:12]}", "Cpf": document}


class MobileTrustUser(_LegacyUser):
    """A Mobile Trust integration (its public client code logs in with a form)."""

    weight = 10

    def login(self) -> str:
        return self.v1_login("MT", "demo-mt", form=True)

    @task(49)
    def create(self) -> None:
        path = f"{_V1}/mobiletrust/transaction"
        self.send(
            "POST",
            path,
            "MT POST /mobiletrust/transaction",
            body=_mt_body(cpf()),
            status=200,
            key="TransactionID",
        )

    @task(1)
    def invalid(self) -> None:
        body = _mt_body(with_wrong_check_digit(cpf()))
        path = f"{_V1}/mobiletrust/transaction"
        self.send(
            "POST", path, "MT POST /mobiletrust/transaction (invalid)", body=body, status=400, key="Message"
        )


def _mt_body(document: str) -> dict[str, Any]:
    """The client-code example (mappings/mobile-trust/examples) with SMS sending blocked.

    Blocked, so a load test never asks PDT (or a real phone network) to send an SMS.
    """
    return {**_MT_EXAMPLE, "Document": document, "BlockSmsSending": True}
