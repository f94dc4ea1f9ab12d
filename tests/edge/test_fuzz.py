"""schemathesis over the generated OpenAPI document, a few cases per operation.

The long run (1,000 cases per operation) is ``scripts/fuzz``; this keeps the suite
fast while still failing on the first server error or undocumented answer shape.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.edge.fuzz_support import DEFAULT_SEED, fuzzer

CASES_PER_OPERATION = 25


def test_no_server_error_and_every_answer_is_documented(tmp_path: Path) -> None:
    with fuzzer(tmp_path) as instance:
        reports = [
            instance.fuzz(operation_id, cases=CASES_PER_OPERATION, seed=DEFAULT_SEED)
            for operation_id in sorted(instance.operations)
        ]
    # (That every catalog route is in the document is tests/edge/test_openapi.py's job.)
    assert reports
    problems = [text for report in reports for text in report.failures]
    assert sum(report.server_errors for report in reports) == 0, problems
    assert sum(report.schema_violations for report in reports) == 0, problems
    assert all(report.cases >= CASES_PER_OPERATION for report in reports)
    # The tokens work: every authenticated operation got past 401 at least once.
    for report in reports:
        if "authenticate" not in report.label:
            assert any(status not in (401, 403) for status in report.statuses), report.label


async def test_a_trailing_slash_is_not_redirected(proxy: httpx.AsyncClient) -> None:
    # Outside what schemathesis generates (it only fills in documented paths). ASP.NET
    # routing answered the route itself; either that or the family's 404 is right, a
    # redirect that a client may follow to plain http with its body (a password) is not.
    document = (await proxy.get("/openapi.json")).json()
    for path, item in document["paths"].items():
        for method in item:
            answer = await proxy.request(method.upper(), re.sub(r"{[^}]+}", "abc", path) + "/", json={})
            assert not 300 <= answer.status_code < 400, (method, path, answer.status_code)
            assert answer.headers.get("content-type", "").startswith("application/json"), (method, path)
