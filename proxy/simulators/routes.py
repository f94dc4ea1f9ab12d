"""The PDT simulator's endpoints, one method per PDT call in ``pdt.md``."""

from __future__ import annotations

import uuid
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proxy.simulators.catalogue import Entity
from proxy.simulators.otp import check_code, current_status, parse_channel
from proxy.simulators.results import (
    INITIAL,
    MODULES,
    Module,
    insight_results,
    phone_checked_score,
    present_entities,
    rating_results,
    score_result,
)
from proxy.simulators.state import PdtSimulator
from proxy.simulators.store import Channel, OneTimeToken, StoredTransaction
from proxy.simulators.validation import BodyValidator
from proxy.simulators.wire import PdtAnswer, iso_timestamp, json_response

__all__ = ["simulator_routes"]

_NOT_FOUND: Final = "Transaction not found"
_UNAUTHORIZED: Final = "Authorization has been denied for this request."
_BAD_CREDENTIALS: Final = "Username or Password is incorrect"
# Which transaction field a token channel sends to, as ProblemDetails names it.
_CHANNEL_FIELD: Final[dict[Channel, str]] = {"Sms": "phone", "Email": "email"}
_CHANNEL_ENTITY: Final[dict[Channel, Entity]] = {"Sms": "Phone", "Email": "Email"}
# PDT's own path segments; the simulator-only route is laxer (see ``parse_channel``).
_PDT_CHANNELS: Final[dict[str, Channel]] = {"sms": "Sms", "emails": "Email"}
# ``all`` names module results in the plural, a pack in the singular.
_PLURAL: Final[dict[Module, str]] = {"score": "scores", "rating": "ratings", "insight": "insights"}


class _Endpoints:
    def __init__(self, simulator: PdtSimulator) -> None:
        self.sim = simulator

    # -- shared steps -------------------------------------------------------------

    def _now(self) -> str:
        return iso_timestamp(self.sim.clock())

    def _owner(self, request: Request) -> str:
        owner = self.sim.sessions.owner_of(request.headers.get("authorization"))
        if owner is None:
            raise PdtAnswer.message(401, _UNAUTHORIZED)
        return owner

    def _transaction(self, request: Request) -> StoredTransaction:
        owner = self._owner(request)
        transaction = self.sim.store.get(request.path_params["transaction_id"], owner)
        if transaction is None:
            raise PdtAnswer.message(404, _NOT_FOUND)
        return transaction

    @staticmethod
    async def _body(request: Request, validator: BodyValidator) -> Any:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise PdtAnswer.invalid({"$": ["The JSON value could not be parsed."]}) from None
        errors = validator.errors(body)
        if errors:
            raise PdtAnswer.invalid(errors)
        return body

    def _create(self, owner: str, fields: dict[str, Any]) -> StoredTransaction:
        now = self._now()
        body = {"id": str(uuid.uuid4()), **fields, "createdAt": now, "referenceDate": now}
        transaction = StoredTransaction(
            owner=owner, body=body, profile=self.sim.profile_for(fields["document"])
        )
        self.sim.store.add(transaction)
        return transaction

    def _run(self, transaction: StoredTransaction, module: Module) -> list[dict[str, Any]]:
        """Compute one module on the transaction as it stands now, replacing its earlier result."""
        now, profile, body = self._now(), transaction.profile, transaction.body
        if module == "score":
            # Later scores (PhoneChecked) are events that stay; only the Initial one is recomputed.
            kept = [s for s in transaction.results.get("score", []) if s["reason"] != INITIAL]
            results = [*kept, score_result(profile, body, now)]
        elif module == "rating":
            results = rating_results(profile, body, now)
        else:
            results = insight_results(profile, body)
        transaction.results[module] = results
        return results

    def _pack_answer(self, transaction: StoredTransaction) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "createdAt": transaction.pack_created_at,
            "status": "completed",
            "transaction": transaction.body,
        }
        for module, results in transaction.results.items():
            answer[module] = {"results": results, "moduleStatus": "completed"}
        return answer

    # -- authentication -------------------------------------------------------------

    async def authenticate(self, request: Request) -> Response:
        body = await self._body(request, self.sim.validators.authentication)
        token = self.sim.sessions.login(body["Username"], body["Password"])
        if token is None:
            raise PdtAnswer.message(401, _BAD_CREDENTIALS)
        return json_response({"token": token, "expiresInSeconds": self.sim.sessions.ttl_s})

    # -- transaction ------------------------------------------------------------------

    async def create_transaction(self, request: Request) -> Response:
        owner = self._owner(request)
        fields = await self._body(request, self.sim.validators.transaction)
        return json_response(self._create(owner, fields).body, 201)

    async def get_transaction(self, request: Request) -> Response:
        return json_response(self._transaction(request).body)

    async def complement_transaction(self, request: Request) -> Response:
        transaction = self._transaction(request)
        fields = await self._body(request, self.sim.validators.complements)
        # Null means "not sent" to an ASP.NET binder, on either side.
        repeated = {
            name: ["The field is already present in the transaction."]
            for name, value in fields.items()
            if value is not None and transaction.body.get(name) is not None
        }
        if repeated:
            raise PdtAnswer.invalid(repeated)
        transaction.body.update({name: value for name, value in fields.items() if value is not None})
        return json_response(transaction.body)

    async def get_all(self, request: Request) -> Response:
        transaction = self._transaction(request)
        answer: dict[str, Any] = {"transaction": transaction.body}
        # A module never requested is absent, so callers can tell it from an empty result.
        for module in MODULES:
            if module in transaction.results:
                answer[_PLURAL[module]] = transaction.results[module]
        # Tokens as modules too (reconstructed key names): the latest one per channel,
        # with the status it has now, so a caller can follow an SMS confirmation.
        now = self.sim.clock()
        for channel, token in transaction.tokens.items():
            status = current_status(token, now=now, ttl_s=self.sim.code_ttl_s)
            answer[f"{channel.lower()}Tokens"] = [
                {"status": status, "type": channel, "createdAt": token.created_at}
            ]
        return json_response(answer)

    # -- modules ----------------------------------------------------------------------

    async def post_scores(self, request: Request) -> Response:
        return json_response(self._run(self._transaction(request), "score"), 201)

    async def get_scores(self, request: Request) -> Response:
        scores = self._transaction(request).results.get("score")
        if scores is None:
            raise PdtAnswer.message(404, "Score not found")
        return json_response(scores)

    async def post_ratings(self, request: Request) -> Response:
        return json_response(self._run(self._transaction(request), "rating"), 201)

    async def post_insights(self, request: Request) -> Response:
        return json_response(self._run(self._transaction(request), "insight"), 201)

    # -- one-time tokens ----------------------------------------------------------------

    @staticmethod
    def _channel(request: Request) -> Channel:
        channel = _PDT_CHANNELS.get(request.path_params["channel"])
        if channel is None:
            raise PdtAnswer.message(404, "Not Found")
        return channel

    async def send_token(self, request: Request) -> Response:
        channel = self._channel(request)
        transaction = self._transaction(request)
        if _CHANNEL_ENTITY[channel] not in present_entities(transaction.body):
            field = _CHANNEL_FIELD[channel]
            raise PdtAnswer.invalid({field: [f"The transaction has no {field} to send a token to."]})
        sent_at = self.sim.clock()
        token = OneTimeToken(channel=channel, sent_at=sent_at, created_at=iso_timestamp(sent_at))
        transaction.tokens[channel] = token
        return json_response({"status": token.status, "createdAt": token.created_at}, 201)

    async def validate_token(self, request: Request) -> Response:
        channel = self._channel(request)
        transaction = self._transaction(request)
        body = await self._body(request, self.sim.validators.token_validation)
        token = transaction.tokens.get(channel)
        if token is None:
            raise PdtAnswer.invalid({"value": ["No token was sent on this channel for the transaction."]})
        was_valid = token.status == "Valid"
        status = check_code(
            token, transaction.id, body["value"], now=self.sim.clock(), ttl_s=self.sim.code_ttl_s
        )
        if channel == "Sms" and status == "Valid" and not was_valid:
            checked = phone_checked_score(transaction.profile, transaction.body, self._now())
            transaction.results.setdefault("score", []).append(checked)
        return json_response({"status": status, "type": channel, "createdAt": token.created_at})

    async def simulator_token_code(self, request: Request) -> Response:
        """Simulator only, not PDT: the code the person would have received."""
        channel = parse_channel(request.path_params["channel"])
        if channel is None:
            raise PdtAnswer.message(404, "Not Found")
        transaction = self._transaction(request)
        return json_response({"code": self.sim.token_code(transaction.id, channel)})

    # -- packs --------------------------------------------------------------------------

    def _pack_modules(self, request: Request) -> frozenset[Module]:
        modules = self.sim.packs.get(request.path_params["pack_name"])
        if modules is None:
            raise PdtAnswer.message(404, "Pack not found")
        return modules

    async def create_pack(self, request: Request) -> Response:
        owner = self._owner(request)
        modules = self._pack_modules(request)
        fields = await self._body(request, self.sim.validators.transaction)
        transaction = self._create(owner, fields)
        transaction.pack = request.path_params["pack_name"]
        transaction.pack_created_at = self._now()
        for module in MODULES:
            if module in modules:
                self._run(transaction, module)
        return json_response(self._pack_answer(transaction), 201)

    async def get_pack(self, request: Request) -> Response:
        self._pack_modules(request)
        transaction = self._transaction(request)
        if transaction.pack != request.path_params["pack_name"]:
            raise PdtAnswer.message(404, _NOT_FOUND)
        return json_response(self._pack_answer(transaction))


def simulator_routes(simulator: PdtSimulator) -> list[Route]:
    """PDT's routes plus the simulator-only ``/_simulator/...`` ones."""
    e = _Endpoints(simulator)
    tx = "/v1/transaction/{transaction_id}"
    return [
        Route("/v1/authentication", e.authenticate, methods=["POST"]),
        Route("/v1/transaction", e.create_transaction, methods=["POST"]),
        Route(tx, e.get_transaction, methods=["GET"]),
        Route(f"{tx}/complements", e.complement_transaction, methods=["POST"]),
        Route(f"{tx}/all", e.get_all, methods=["GET"]),
        Route(f"{tx}/scores", e.post_scores, methods=["POST"]),
        Route(f"{tx}/scores", e.get_scores, methods=["GET"]),
        Route(f"{tx}/ratings", e.post_ratings, methods=["POST"]),
        Route(f"{tx}/insights", e.post_insights, methods=["POST"]),
        Route(f"{tx}/{{channel}}/tokens", e.send_token, methods=["POST"]),
        Route(f"{tx}/{{channel}}/tokens/validate", e.validate_token, methods=["POST"]),
        Route("/v1/packs/{pack_name}", e.create_pack, methods=["POST"]),
        Route("/v1/packs/{pack_name}/{transaction_id}", e.get_pack, methods=["GET"]),
        Route("/_simulator/tokens/{transaction_id}/{channel}", e.simulator_token_code, methods=["GET"]),
    ]
