"""The PDT side of a legacy call: mapped request in, PDT calls, mapped answer out.

One ``PdtPath`` serves every operation of every product; what it calls is decided
by the operation's declared ``pdt_call`` and the tenant's strategy, once per
request, with no product-specific code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proxy.mapping.operation import Operation
from proxy.mapping.transforms import Trace
from proxy.stages.views import view_from_modules, view_from_pack
from proxy.tenants import Tenant
from proxy.upstream.pdt import PdtCall, PdtClient

__all__ = ["PdtAnswer", "PdtPath"]


@dataclass(frozen=True, slots=True)
class PdtAnswer:
    """A legacy-shaped answer computed by PDT, with what metering and metrics need."""

    body: dict[str, Any]
    trace: Trace
    transaction_id: str | None
    modules: tuple[str, ...]


class PdtPath:
    def __init__(self, client: PdtClient) -> None:
        self._client = client
        # Resolved once: the pack hot path reads it per request.
        self._pack_keys = client.vocabulary.pack_keys

    async def answer(
        self,
        operation: Operation,
        tenant: Tenant,
        call: PdtCall,
        legacy: dict[str, Any],
        transaction_id: str | None,
        *,
        side_effects: bool = True,
    ) -> PdtAnswer:
        """``side_effects=False`` (the shadow stage) skips follow-up calls the end customer
        would notice, such as a second SMS: the legacy backend already sent its own."""
        kind = operation.spec.pdt_call
        modules: tuple[str, ...] = ()
        if kind == "transaction":
            view, modules = await self._transaction(operation, tenant, call, legacy, side_effects)
        elif kind == "get_all":
            view = await self._client.get_all(call, _required(transaction_id))
        elif kind == "send_token":
            channel = operation.channel_of(legacy)
            view = await self._client.send_token(call, _required(transaction_id), channel)
            modules = (self._client.vocabulary.channel(channel).module,)
        else:
            channel = operation.channel_of(legacy)
            # The loader refused any validate mapping whose PDT schema does not require
            # the vocabulary's value member: the key is always there.
            value = operation.to_pdt(legacy)[self._client.vocabulary.token_validation.value]
            view = await self._client.validate_token(call, _required(transaction_id), channel, value)
        body, trace = operation.to_legacy(view)
        answered_id = transaction_id
        if answered_id is None and isinstance(view, dict):
            transaction = view.get("transaction")
            if isinstance(transaction, dict) and isinstance(transaction.get("id"), str):
                answered_id = transaction["id"]
        return PdtAnswer(body, trace, answered_id, modules)

    async def _transaction(
        self, operation: Operation, tenant: Tenant, call: PdtCall, legacy: dict[str, Any], side_effects: bool
    ) -> tuple[Any, tuple[str, ...]]:
        request = operation.to_pdt(legacy)
        modules = operation.modules_for(request)
        pack = tenant.pack or operation.spec.pack
        if tenant.strategy == "pack" and pack:
            view = view_from_pack(await self._client.create_pack(call, pack, request), self._pack_keys)
            called: tuple[str, ...] = (f"pack:{pack}",)
        else:
            transaction = await self._client.create_transaction(call, request)
            if not isinstance(_transaction_id(transaction), str):
                # The response mapper's read of transaction.id names it: one place
                # reports malformed answers.
                return view_from_modules(transaction, {}), ()
            results = await self._client.request_modules(call, transaction["id"], modules)
            view, called = view_from_modules(transaction, results), modules
        follow_ups = operation.follow_ups_for(legacy) if side_effects else ()
        transaction_id = _transaction_id(view.get("transaction")) if isinstance(view, dict) else None
        if follow_ups and isinstance(transaction_id, str):
            for follow_up in follow_ups:
                sent = await self._client.send_token(call, transaction_id, follow_up.channel)
                view[follow_up.view_key] = [sent]
            called = (*called, *(follow_up.module for follow_up in follow_ups))
        return view, called


def _transaction_id(transaction: Any) -> Any:
    return transaction.get("id") if isinstance(transaction, dict) else None


def _required(transaction_id: str | None) -> str:
    if transaction_id is None:
        raise ValueError("route declared without a transaction id parameter")
    return transaction_id
