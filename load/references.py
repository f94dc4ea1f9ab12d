"""The two reference proxies the benchmark measures the product against.

Both translate a Data Trust v1 ``POST /products/v1/datatrust`` into one PDT pack
call and the pack answer back into the legacy shape, with the same hand-written
mapping, against the same upstream:

- ``naive``: what a team writes first: FastAPI with a Pydantic request model and
  httpx's default ``AsyncClient`` (encode/httpx#3215 makes this slow under load);
- ``minimal``: a hand-written ASGI callable with an aiohttp session and orjson,
  the practical ceiling for a translating proxy in Python.

Neither verifies a legacy token, meters, logs or validates against the legacy
contract; the ratios in the benchmark show what the product's guarantees cost.

    python load/references.py naive|minimal --port N --upstream http://127.0.0.1:18091
"""

from __future__ import annotations

import argparse
import re
from typing import Any

import aiohttp
import httpx
import orjson
import uvicorn
from fastapi import FastAPI, Header
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

_DIGITS = re.compile(r"\D")
_PAIRS = {
    "Document+Phone": "CPF_PHONE",
    "Document+Email": "CPF_EMAIL",
    "Document+ZipCode": "CPF_CEP",
    "Email+Phone": "PHONE_EMAIL",
    "Phone+ZipCode": "PHONE_CEP",
    "Email+ZipCode": "EMAIL_CEP",
}
_LEVELS = {0: "None", 1: "Low", 2: "Medium", 3: "High"}
_INSIGHTS = {
    "GER2100": ("DT2100", "Alert"),
    "GER9001": ("DT1001", "Positive"),
    "EML9004": ("DT1104", "Positive"),
}
_PACK_PATH = "/v1/packs/datatrust"


def legacy_to_pdt(body: dict[str, Any]) -> dict[str, Any]:
    pdt: dict[str, Any] = {"documentType": "CPF", "document": _DIGITS.sub("", body["Document"])}
    if body.get("IdentifierId"):
        pdt["identifierId"] = body["IdentifierId"]
    if body.get("Email"):
        pdt["email"] = body["Email"]
    phone = body.get("Phone")
    if phone:
        pdt["phone"] = {"countryCode": 55, "areaCode": int(phone["AreaCode"]), "number": int(phone["Number"])}
    if body.get("ZipCode"):
        pdt["address"] = {"zipCode": _DIGITS.sub("", body["ZipCode"])}
    return pdt


def pack_to_legacy(pack: dict[str, Any]) -> dict[str, Any]:
    transaction = pack["transaction"]
    insights = []
    for insight in pack["insight"]["results"]:
        found = _INSIGHTS.get(insight["code"])
        if found:
            insights.append({"code": found[0], "description": insight["description"], "type": found[1]})
    return {
        "transactionId": transaction["id"],
        "identifierId": transaction.get("identifierId"),
        "createdAt": transaction["createdAt"],
        "score": round(min(100.0, max(0.0, pack["score"]["results"][-1]["value"])), 2),
        "ratings": [
            {"relatedTo": _PAIRS["+".join(sorted(r["relatedTo"]))], "value": _LEVELS.get(r["value"], "None")}
            for r in pack["rating"]["results"]
            if "+".join(sorted(r["relatedTo"])) in _PAIRS
        ],
        "insights": insights,
    }


class PhoneModel(BaseModel):
    AreaCode: str
    Number: str
    CountryCode: str | None = None


class DataTrustRequest(BaseModel):
    Document: str
    IdentifierId: str | None = None
    Email: str | None = None
    Phone: PhoneModel | None = None
    ZipCode: str | None = None


def naive_app(upstream: str) -> FastAPI:
    app = FastAPI()
    state: dict[str, Any] = {}

    async def token() -> str:
        if "token" not in state:
            answer = await state["client"].post("/v1/authentication", json={"Username": "u", "Password": "p"})
            state["token"] = answer.json()["token"]
        return str(state["token"])

    @app.on_event("startup")  # the naive way, on purpose
    async def start() -> None:
        state["client"] = httpx.AsyncClient(base_url=upstream)

    @app.post("/products/v1/datatrust")
    async def datatrust(request: DataTrustRequest, authorization: str = Header()) -> dict[str, Any]:
        body = legacy_to_pdt(request.model_dump(exclude_none=True))
        headers = {"Authorization": f"Bearer {await token()}"}
        answer = await state["client"].post(_PACK_PATH, json=body, headers=headers)
        return pack_to_legacy(answer.json())

    return app


class MinimalApp:
    """Raw ASGI: one route, one pooled aiohttp session, orjson both ways."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.session: aiohttp.ClientSession | None = None
        self.headers: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        assert self.session is not None
        pdt = legacy_to_pdt(orjson.loads(body))
        async with self.session.post(
            self.upstream + _PACK_PATH, data=orjson.dumps(pdt), headers=self.headers
        ) as r:
            pack = orjson.loads(await r.read())
        payload = orjson.dumps(pack_to_legacy(pack))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"%d" % len(payload)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
                async with self.session.post(
                    self.upstream + "/v1/authentication", json={"Username": "u", "Password": "p"}
                ) as answer:
                    token = (await answer.json())["token"]
                self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["naive", "minimal"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    app: Any = naive_app(args.upstream) if args.kind == "naive" else MinimalApp(args.upstream)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
