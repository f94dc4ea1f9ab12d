"""A static PDT stand-in for benchmarks: fixed answers, raw asyncio, keep-alive.

The benchmark must measure the proxies, not the upstream, so this server does the
least possible work per request (no JSON parsing, no validation): it reads one
HTTP/1.1 request, picks a canned answer by method and path, and writes it. It
answers the PDT calls the Data Trust v1 mappings make, with bodies that satisfy
PDT's schemas, so every proxy under test does its full translation work; and, as
the Data Trust v1 legacy backend, its login and ``POST /products/v1/datatrust``
with a fixed legacy-shaped answer (the legacy and shadow stages' upstream).

    python load/upstream_stub.py --port 18091
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Final

import orjson
import uvloop

_CREATED = "2026-11-23T10:00:00.000Z"
_TRANSACTION: Final = {
    "id": "0b9c7a51-1d1c-4d6a-9d55-3f3c1d1d1d1d",
    "createdAt": _CREATED,
    "referenceDate": _CREATED,
    "identifierId": "bench",
    "documentType": "CPF",
    "document": "12345678909",
    "email": "bench@example.com",
    "phone": {"countryCode": 55, "areaCode": 11, "number": 988056887},
    "address": {"zipCode": "06454050"},
}
_SCORES: Final = [{"value": 41.37, "reason": "Initial", "createdAt": _CREATED}]
_RATINGS: Final = [
    {"value": value, "reason": "Initial", "createdAt": _CREATED, "relatedTo": pair}
    for value, pair in [
        (3, ["Document", "Email"]),
        (2, ["Document", "Phone"]),
        (1, ["Document", "ZipCode"]),
        (2, ["Phone", "Email"]),
        (0, ["Phone", "ZipCode"]),
        (1, ["Email", "ZipCode"]),
    ]
]
_INSIGHTS: Final = [
    {
        "code": code,
        "description": "bench",
        "type": "Cadastro",
        "category": "document",
        "relevance": "Alerta",
        "relatedTo": ["Document"],
    }
    for code in ("GER2100", "GER9001", "EML9004", "TEL9002", "END9001", "GER9004")
]
_PACK: Final = {
    "createdAt": _CREATED,
    "status": "completed",
    "transaction": _TRANSACTION,
    "score": {"results": _SCORES, "moduleStatus": "completed"},
    "rating": {"results": _RATINGS, "moduleStatus": "completed"},
    "insight": {"results": _INSIGHTS, "moduleStatus": "completed"},
}


def _response(status: int, body: object) -> bytes:
    payload = orjson.dumps(body)
    reason = {200: b"OK", 201: b"Created", 404: b"Not Found"}[status]
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % (status, reason, len(payload))
    ) + payload


# The Data Trust v1 legacy backend, for the legacy and shadow stages: its answer is
# what the proxy makes of _PACK but one rating and one insight, so a shadow
# comparison walks every field and finds a difference or two, as in real traffic.
_LEGACY_DATATRUST: Final = {
    "transactionId": "7d2f0c1e-5b8a-4f39-9c61-2a4e8b7d9f10",
    "identifierId": "bench",
    "createdAt": _CREATED,
    "score": 43.5,
    "ratings": [
        {"relatedTo": relation, "value": value}
        for relation, value in [
            ("CPF_EMAIL", "High"),
            ("CPF_PHONE", "Medium"),
            ("CPF_CEP", "Low"),
            ("PHONE_EMAIL", "Medium"),
            ("PHONE_CEP", "Low"),
            ("EMAIL_CEP", "Low"),
        ]
    ],
    "insights": [
        {"code": "DT1104", "description": "E-mail linked to the document", "type": "Positive"},
        {"code": "DT2100", "description": "Document irregular at the Federal Revenue", "type": "Alert"},
    ],
}

ANSWERS: Final = {
    (b"POST", b"/v1/authentication"): _response(200, {"token": "bench-token", "expiresInSeconds": 7200}),
    (b"POST", b"/v1/transaction"): _response(201, _TRANSACTION),
    (b"POST", b"/v1/packs/datatrust"): _response(201, _PACK),
    (b"POST", b"/products/v1/authentication"): _response(
        200, {"token": "bench-legacy-token", "expiresInSeconds": 3600}
    ),
    (b"POST", b"/products/v1/datatrust"): _response(200, _LEGACY_DATATRUST),
}
_MODULE_ANSWERS: Final = {
    b"scores": _response(201, _SCORES),
    b"ratings": _response(201, _RATINGS),
    b"insights": _response(201, _INSIGHTS),
}
_NOT_FOUND: Final = _response(404, {"message": "not found"})


def answer_for(method: bytes, path: bytes) -> bytes:
    found = ANSWERS.get((method, path))
    if found is not None:
        return found
    if method == b"POST" and path.startswith(b"/v1/transaction/"):
        return _MODULE_ANSWERS.get(path.rsplit(b"/", 1)[-1], _NOT_FOUND)
    return _NOT_FOUND


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport is not an asyncio.Transport subclass, only a writer.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < head_end + 4 + length:
                return
            method, path, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
            self.buffer = self.buffer[head_end + 4 + length :]
            assert self.transport is not None
            self.transport.write(answer_for(method, path.split(b"?", 1)[0]))


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=18091)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
