"""The PDT simulator's endpoints, one method per PDT call in ``pdt.md``.

Paths, body members and answer keys come from the PDT vocabulary
(``mappings/pdt/vocabulary.yaml``), the same one the proxy's client reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proxy.errors import ConfigError
from proxy.pdt_vocabulary import ChannelNames, PdtVocabulary
from proxy.simulators.catalogue import Entity
from proxy.simulators.otp import check_code, current_status, parse_channel
from proxy.simulators.results import (
    INITIAL,
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
# What a channel sends to (the vocabulary's ``sends_to``): the simulator's own channel
# (which keys its one-time codes) and the entity that must be in the transaction.
_SENDS_TO: Final[dict[str, tuple[Channel, Entity]]] = {"phone": ("Sms", "Phone"), "email": ("Email", "Email")}

_Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class _SimChannel:
    names: ChannelNames
    channel: Channel
    entity: Entity


@dataclass(frozen=True, slots=True)
class _SimModule:
    name: str  # the all-results key
    kind: Module
    pack_key: str


class _Endpoints:
    def __init__(self, simulator: PdtSimulator, vocabulary: PdtVocabulary) -> None:
        self.sim = simulator
        auth = vocabulary.authentication
        self.login_members = (auth.username, auth.password)
        self.answer_members = (auth.token, auth.lifetime)
        self.value_member = vocabulary.token_validation.value
        self.modules = tuple(
            _SimModule(name, module.simulated_as, module.pack_key)
            for name, module in vocabulary.modules.items()
        )
        self.channels = {
            name: _SimChannel(names, *_SENDS_TO[names.sends_to])
            for name, names in vocabulary.channels.items()
        }
        for validator, members in (
            (simulator.validators.authentication, self.login_members),
            (simulator.validators.token_validation, (self.value_member,)),
        ):
            missing = sorted(set(members) - validator.properties)
            if missing:
                # A renamed member must be renamed in its schema too, or no body could pass.
                raise ConfigError(f"PDT vocabulary members {missing} are not in their request schema")

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
            body = validator.bind(orjson.loads(await request.body()))
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
        for module in self.modules:
            results = transaction.results.get(module.kind)
            if results is not None:
                answer[module.pack_key] = {"results": results, "moduleStatus": "completed"}
        return answer

    # -- authentication -------------------------------------------------------------

    async def authenticate(self, request: Request) -> Response:
        body = await self._body(request, self.sim.validators.authentication)
        username, password = self.login_members
        token = self.sim.sessions.login(body[username], body[password])
        if token is None:
            raise PdtAnswer.message(401, _BAD_CREDENTIALS)
        token_member, lifetime_member = self.answer_members
        return json_response({token_member: token, lifetime_member: self.sim.sessions.ttl_s})

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
        for module in self.modules:
            if module.kind in transaction.results:
                answer[module.name] = transaction.results[module.kind]
        # Tokens as modules too (reconstructed key names): the latest one per channel,
        # with the status it has now, so a caller can follow an SMS confirmation.
        now = self.sim.clock()
        for channel in self.channels.values():
            token = transaction.tokens.get(channel.channel)
            if token is not None:
                status = current_status(token, now=now, ttl_s=self.sim.code_ttl_s)
                answer[channel.names.view_key] = [
                    {"status": status, "type": channel.names.type, "createdAt": token.created_at}
                ]
        return json_response(answer)

    # -- modules ----------------------------------------------------------------------

    def post_module(self, kind: Module) -> _Handler:
        async def post(request: Request) -> Response:
            # No body is read: PDT's module calls take none, and clients send none.
            return json_response(self._run(self._transaction(request), kind), 201)

        return post

    async def get_scores(self, request: Request) -> Response:
        scores = self._transaction(request).results.get("score")
        if scores is None:
            raise PdtAnswer.message(404, "Score not found")
        return json_response(scores)

    # -- one-time tokens ----------------------------------------------------------------

    def send_token(self, channel: _SimChannel) -> _Handler:
        async def send(request: Request) -> Response:
            transaction = self._transaction(request)
            if channel.entity not in present_entities(transaction.body):
                field = channel.names.sends_to
                raise PdtAnswer.invalid({field: [f"The transaction has no {field} to send a token to."]})
            sent_at = self.sim.clock()
            token = OneTimeToken(channel=channel.channel, sent_at=sent_at, created_at=iso_timestamp(sent_at))
            transaction.tokens[channel.channel] = token
            return json_response({"status": token.status, "createdAt": token.created_at}, 201)

        return send

    def validate_token(self, channel: _SimChannel) -> _Handler:
        async def validate(request: Request) -> Response:
            transaction = self._transaction(request)
            body = await self._body(request, self.sim.validators.token_validation)
            token = transaction.tokens.get(channel.channel)
            if token is None:
                raise PdtAnswer.invalid(
                    {self.value_member: ["No token was sent on this channel for the transaction."]}
                )
            was_valid = token.status == "Valid"
            status = check_code(
                token,
                transaction.id,
                body[self.value_member],
                now=self.sim.clock(),
                ttl_s=self.sim.code_ttl_s,
            )
            if channel.entity == "Phone" and status == "Valid" and not was_valid:
                checked = phone_checked_score(transaction.profile, transaction.body, self._now())
                transaction.results.setdefault("score", []).append(checked)
            return json_response(
                {"status": status, "type": channel.names.type, "createdAt": token.created_at}
            )

        return validate

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
        for module in self.modules:
            if module.kind in modules:
                self._run(transaction, module.kind)
        return json_response(self._pack_answer(transaction), 201)

    async def get_pack(self, request: Request) -> Response:
        self._pack_modules(request)
        transaction = self._transaction(request)
        if transaction.pack != request.path_params["pack_name"]:
            raise PdtAnswer.message(404, _NOT_FOUND)
        return json_response(self._pack_answer(transaction))


def simulator_routes(simulator: PdtSimulator, vocabulary: PdtVocabulary) -> list[Route]:
    """PDT's routes, named by ``vocabulary``, plus the simulator-only ``/_simulator/...`` ones."""
    e = _Endpoints(simulator, vocabulary)
    transactions = vocabulary.transaction.path
    tx = f"{transactions}/{{transaction_id}}"
    packs = vocabulary.packs.path
    routes = [
        Route(vocabulary.authentication.path, e.authenticate, methods=["POST"]),
        Route(transactions, e.create_transaction, methods=["POST"]),
        Route(tx, e.get_transaction, methods=["GET"]),
        Route(f"{tx}/{vocabulary.transaction.complements}", e.complement_transaction, methods=["POST"]),
        Route(f"{tx}/{vocabulary.transaction.all}", e.get_all, methods=["GET"]),
    ]
    for name, module in vocabulary.modules.items():
        path = f"{tx}/{module.path}"
        routes.append(
            Route(path, e.post_module(module.simulated_as), methods=["POST"], name=f"module-{name}")
        )
        if module.simulated_as == "score":
            # PDT documents reading scores back (404 before any POST); not the others.
            routes.append(Route(path, e.get_scores, methods=["GET"], name=f"module-{name}-get"))
    for name, channel in e.channels.items():
        routes.append(
            Route(f"{tx}/{channel.names.path}", e.send_token(channel), methods=["POST"], name=f"send-{name}")
        )
        routes.append(
            Route(
                f"{tx}/{channel.names.validate_path}",
                e.validate_token(channel),
                methods=["POST"],
                name=f"validate-{name}",
            )
        )
    routes += [
        Route(f"{packs}/{{pack_name}}", e.create_pack, methods=["POST"]),
        Route(f"{packs}/{{pack_name}}/{{transaction_id}}", e.get_pack, methods=["GET"]),
        Route("/_simulator/tokens/{transaction_id}/{channel}", e.simulator_token_code, methods=["GET"]),
    ]
    return routes
