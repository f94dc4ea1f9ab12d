"""The shipped catalog loads; a copy broken in many ways is refused naming file, rule and reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from proxy.cli import main
from proxy.errors import MappingError
from proxy.mapping.catalog import MappingCatalog, load_catalog

from .support import MAPPINGS, PRODUCT

CREATE = f"{PRODUCT}/operations/transaction-create.yaml"
GET = f"{PRODUCT}/operations/transaction-get.yaml"
SEND = f"{PRODUCT}/operations/token-send.yaml"
PRODUCT_FILE = f"{PRODUCT}/product.yaml"
FFR_PRODUCT = "ffr/product.yaml"
FFR_SCORE = "ffr/operations/score.yaml"
MT_CREATE = "mobile-trust/operations/transaction-create.yaml"
MT_GET = "mobile-trust/operations/transaction-get.yaml"


def test_shipped_catalog_loads(catalog: MappingCatalog) -> None:
    assert catalog.root == MAPPINGS.resolve()
    product = catalog.products[PRODUCT]
    assert [(route.spec.method, route.spec.path) for route in product.routes] == [
        ("POST", "/datatrust"),
        ("GET", "/datatrust/{transactionId}"),
        ("POST", "/datatrust/{transactionId}/token"),
        ("POST", "/datatrust/{transactionId}/token/validate"),
    ]
    assert sorted(product.tables) == ["insights", "rating-pairs", "rating-values"]
    assert set(catalog.table_declarations[PRODUCT]) == set(product.tables)
    get, create = product.routes[1].operation, product.routes[0].operation
    # rules_from: the GET answer is built by the very same rules as the POST answer.
    assert get.response_mapper.provenance == create.response_mapper.provenance
    assert create.modules_for({"document": "1"}) == ("scores", "insights")
    assert create.modules_for({"email": "a@b.co"}) == ("scores", "ratings", "insights")


def edit(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def edits(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for change in changes:
            change(root)

    return apply


def rename_product_dir(root: Path) -> None:
    (root / PRODUCT).rename(root / "datatrust")


def remove_error_kind(root: Path) -> None:
    path = root / PRODUCT / "errors.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("  upstream_malformed:\n")
    del lines[start : start + 3]
    path.write_text("".join(lines), encoding="utf-8")


def add_duplicate_row(root: Path) -> None:
    path = root / PRODUCT / "tables" / "insights.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "GER2100,DT9999,Duplicate,Alert\n", encoding="utf-8")


BREAKAGES = [
    pytest.param(
        edit(CREATE, "from: Document\n", "from: Documnet\n"),
        CREATE,
        "dt.req.document",
        "has no field 'Documnet'",
        id="unknown-from-field",
    ),
    pytest.param(
        edit(CREATE, "        sessionId:\n", "        sessionID:\n"),
        CREATE,
        "dt.req.session-id",
        "to: pdt/schemas/transaction.request.json has no field 'sessionID'",
        id="unknown-to-field",
    ),
    pytest.param(
        edit(CREATE, "{id: dt.req.name,", "{id: DT.Req.Name,"),
        CREATE,
        "DT.Req.Name",
        "an id is lower-case (a-z, 0-9, '.', '-') or the rule's target path",
        id="rule-id-typo",
    ),
    pytest.param(
        edit(CREATE, "{id: dt.req.email,", "{id: dt.req.name,"),
        CREATE,
        "dt.req.name",
        "rule id used more than once in the file",
        id="duplicate-rule-id",
    ),
    pytest.param(
        # A rule without id is named by its target: the name may collide with an explicit id.
        edits(
            edit(CREATE, "{id: dt.req.email, from: Email}", "{from: Email}"),
            edit(CREATE, "{id: dt.req.name,", "{id: email,"),
        ),
        CREATE,
        "email",
        "rule id used more than once in the file",
        id="defaulted-id-used-twice",
    ),
    pytest.param(
        edit(CREATE, "convert: relation_key", "convert: relation_keys"),
        CREATE,
        "dt.resp.rating.related-to",
        "unknown converter 'relation_keys' (known: relation_key",
        id="unknown-converter",
    ),
    pytest.param(
        edit(CREATE, "{id: dt.req.name, from: Name,", "{id: dt.req.name, form: Name,"),
        CREATE,
        "dt.req.name",
        "Extra inputs are not permitted",
        id="misspelt-key-in-rule",
    ),
    pytest.param(
        edit(CREATE, "transform: digits\n", "transform: digitz\n"),
        CREATE,
        "dt.req.document",
        "unknown transform 'digitz'",
        id="unknown-transform",
    ),
    pytest.param(
        edit(CREATE, "column: legacy_code}", "column: legacy_cod}"),
        CREATE,
        "dt.resp.insight.code",
        "table 'insights' has no column 'legacy_cod'",
        id="operation-table-column-typo",
    ),
    pytest.param(
        edit(CREATE, "name: rating-pairs,", "name: rating-pair,"),
        CREATE,
        "dt.resp.rating.related-to",
        "unknown table 'rating-pair'",
        id="operation-table-name-typo",
    ),
    pytest.param(
        edit(CREATE, "when_any: [phone, email, address.zipCode]", "when_any: [phone, email, address.zip]"),
        CREATE,
        None,
        "modules.ratings.when_any: PDT request has no 'address.zip'",
        id="when-any-unknown-field",
    ),
    pytest.param(
        edit(CREATE, "  - name: insights\n", "  - name: biometrics\n"),
        CREATE,
        None,
        "modules: 'biometrics' is not a PDT module (known: scores, ratings, insights)",
        id="module-not-in-the-pdt-vocabulary",
    ),
    pytest.param(
        edit("pdt/vocabulary.yaml", "  value: value", "  value: code"),
        f"{PRODUCT}/operations/token-validate.yaml",
        None,
        "validate_token: the PDT request schema must require 'code' (the code)",
        id="validation-member-renamed-without-its-schema",
    ),
    pytest.param(
        edit("pdt/vocabulary.yaml", "view_key: smsTokens ", "view_key: scores "),
        "pdt/vocabulary.yaml",
        None,
        "all-results keys must be distinct: 'scores' is used twice",
        id="broken-vocabulary",
    ),
    pytest.param(
        edit(
            CREATE,
            "        transactionId:\n"
            "          id: dt.resp.transaction-id\n"
            "          description: The PDT id itself, so a later GET needs no lookup table.\n"
            "          from: transaction.id\n          required: true\n",
            "",
        ),
        CREATE,
        None,
        "requires 'transactionId' but no rule writes it",
        id="required-target-without-rule",
    ),
    pytest.param(
        edit(SEND, "pdt_call: send_token\n", "pdt_call: send_token\n  oops: [unclosed\n"),
        SEND,
        None,
        "not valid YAML",
        id="yaml-syntax-error",
    ),
    pytest.param(
        edit(SEND, "schema: ../contract/token.request.json", "schema: ../contract/tokens.request.json"),
        f"{PRODUCT}/contract/tokens.request.json",
        None,
        "cannot read schema",
        id="schema-file-missing",
    ),
    pytest.param(
        edit(f"{PRODUCT}/contract/transaction.request.json", '"format": "date"', '"format": "data"'),
        f"{PRODUCT}/contract/transaction.request.json",
        None,
        "format 'data' is not one of",
        id="unknown-format-in-contract",
    ),
    pytest.param(
        remove_error_kind,
        f"{PRODUCT}/errors.yaml",
        None,
        "no entry for error kinds ['upstream_malformed']",
        id="errors-yaml-missing-kind",
    ),
    pytest.param(
        edit(f"{PRODUCT}/errors.yaml", "  empty_body: A non-empty request body is required.\n", ""),
        f"{PRODUCT}/errors.yaml",
        None,
        "validation_messages lacks ['empty_body']",
        id="errors-yaml-missing-message",
    ),
    pytest.param(
        edit(
            f"{PRODUCT}/tables/tables.yaml",
            "columns: [legacy_code, description, type]",
            "columns: [legacy_code, descripton, type]",
        ),
        f"{PRODUCT}/tables/insights.csv",
        None,
        "header lacks columns ['descripton']",
        id="tables-yaml-column-typo",
    ),
    pytest.param(
        edit(f"{PRODUCT}/tables/tables.yaml", "unmapped: drop\n", "unmapped: default\n"),
        f"{PRODUCT}/tables/tables.yaml",
        None,
        "unmapped: default needs a 'default' row",
        id="tables-yaml-default-without-row",
    ),
    pytest.param(
        add_duplicate_row,
        f"{PRODUCT}/tables/insights.csv",
        None,
        "line 34: key 'GER2100' appears twice",
        id="table-duplicate-key",
    ),
    pytest.param(
        edit(PRODUCT_FILE, "operation: operations/token-send.yaml", "operation: operations/token-sent.yaml"),
        f"{PRODUCT}/operations/token-sent.yaml",
        None,
        "cannot read",
        id="route-operation-file-missing",
    ),
    pytest.param(
        edit(PRODUCT_FILE, "operation: operations/token-send.yaml", "operation: ../../outside.yaml"),
        PRODUCT_FILE,
        None,
        "path '../../outside.yaml' leaves the mappings directory",
        id="path-escapes-mappings",
    ),
    pytest.param(
        edit(PRODUCT_FILE, "errors: errors.yaml", "errors: ../../errors.yaml"),
        PRODUCT_FILE,
        None,
        "leaves the mappings directory",
        id="errors-path-escapes-mappings",
    ),
    pytest.param(
        rename_product_dir,
        "datatrust/product.yaml",
        None,
        "product 'datatrust-v1' must live in a directory of that name",
        id="product-dir-name-mismatch",
    ),
    pytest.param(
        edit(GET, "rules_from: transaction-create.yaml", "rules_from: transaction-get.yaml"),
        GET,
        None,
        "rules_from must name a file with its own rules, not another reference",
        id="rules-from-a-reference",
    ),
    pytest.param(
        edit(PRODUCT_FILE, "    transaction_id: transactionId\n", ""),
        PRODUCT_FILE,
        None,
        "get_all needs transaction_id",
        id="route-without-transaction-id",
    ),
    pytest.param(
        edit(
            PRODUCT_FILE,
            "    operation: operations/transaction-get.yaml\n",
            "    operation: operations/token-send.yaml\n",
        ),
        SEND,
        None,
        "a GET route cannot take a request body",
        id="get-route-on-operation-with-body",
    ),
    # --- the older v1 family (FFR, Mobile Trust) ---
    pytest.param(
        edit(MT_CREATE, "unless: {from: BlockSmsSending,", "unless: {from: BlockSms,"),
        MT_CREATE,
        "after[0]",
        "has no field 'BlockSms'",
        id="follow-up-condition-on-unknown-field",
    ),
    pytest.param(
        edit(
            MT_CREATE, "  - call: send_token\n    channel: sms\n", "  - call: send_token\n    channel: fax\n"
        ),
        MT_CREATE,
        None,
        "after: 'fax' is not a PDT token channel (known: sms, email)",
        id="follow-up-unknown-channel",
    ),
    pytest.param(
        edit(MT_GET, "pdt_call: get_all\n", "pdt_call: get_all\nafter: [{call: send_token, channel: sms}]\n"),
        MT_GET,
        None,
        "'after' follows a transaction",
        id="follow-up-after-a-read",
    ),
    pytest.param(
        edit(FFR_PRODUCT, "timezone: America/Sao_Paulo", "timezone: America/Sao_Paolo"),
        FFR_PRODUCT,
        None,
        "unknown time zone 'America/Sao_Paolo'",
        id="unknown-expiry-zone",
    ),
    pytest.param(
        edit(FFR_PRODUCT, ", timezone: America/Sao_Paulo}", "}"),
        FFR_PRODUCT,
        None,
        "style local_datetime needs 'timezone'",
        id="local-expiry-without-zone",
    ),
    pytest.param(
        edit(FFR_PRODUCT, "encodings: [json, form]", "encodings: [json]"),
        "mobile-trust/product.yaml",
        None,
        "authentication at /v1/authenticate (prd) differs from ffr's",
        id="shared-authentication-declared-differently",
    ),
    pytest.param(
        edit(FFR_SCORE, "prefer: {from: TypeID, equals: 1}", "prefer: {from: Type, equals: 1}"),
        FFR_SCORE,
        "ffr.req.address",
        "has no field 'Addresses[0].Type'",
        id="pick-preference-on-unknown-field",
    ),
    pytest.param(
        edit("ffr/tables/codes.csv", "GER2100,FFR101,Negative,100,", "GER2100,FFR101,Negative,top,"),
        "ffr/tables/codes.csv",
        None,
        "weight='top' is not a whole number",
        id="non-integer-weight",
    ),
    pytest.param(
        edit("ffr/tables/codes.csv", "GER2100,FFR101,Negative,", "GER2100,FFR101,Negativo,"),
        "ffr/tables/codes.csv",
        None,
        "section='Negativo' is not one of",
        id="unknown-section",
    ),
]


@pytest.mark.parametrize(("breakage", "file", "rule", "reason"), BREAKAGES)
def test_broken_copies_are_refused(
    mappings_copy: Path, breakage: Callable[[Path], None], file: str, rule: str | None, reason: str
) -> None:
    breakage(mappings_copy)
    with pytest.raises(MappingError) as caught:
        load_catalog(mappings_copy)
    error = caught.value
    assert error.file == file
    assert error.rule == rule
    assert reason in error.reason
    message = str(error)
    assert message.startswith(file + ": ")
    assert reason in message
    if rule is not None:
        assert f"rule {rule!r}" in message


def test_an_unbroken_copy_loads(mappings_copy: Path) -> None:
    copy = load_catalog(mappings_copy)
    assert set(copy.products) == {PRODUCT, "ffr", "mobile-trust"}


def test_missing_mappings_directory(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="mappings directory not found"):
        load_catalog(tmp_path / "nope")


def test_directory_without_products(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"no \*/product\.yaml found"):
        load_catalog(tmp_path)


def test_cli_lint_on_a_broken_copy(mappings_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(CREATE, "from: Document\n", "from: Documnet\n")(mappings_copy)
    assert main(["lint", "--mappings", str(mappings_copy)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"pdt-proxy: {CREATE}: rule 'dt.req.document': from: ")
    assert "has no field 'Documnet'" in captured.err


def test_cli_lint_on_the_shipped_mappings(
    catalog: MappingCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", "--mappings", str(MAPPINGS)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    product = catalog.products[PRODUCT]
    rules = sum(
        len(route.operation.response_mapper.provenance)
        + (len(route.operation.request_mapper.provenance) if route.operation.request_mapper else 0)
        for route in product.routes
    )
    assert captured.out.startswith(f"{PRODUCT}: 4 operations, {rules} field rules, 3 tables: OK\n")
    assert re.search(
        r"^datatrust-v1 / insights \(\d+ rows, unmapped policy: drop\)$", captured.out, re.MULTILINE
    )
    assert "  PDT codes that reach no legacy code: " in captured.out
    assert "  legacy codes no PDT code reaches: " in captured.out
    assert "  rows whose PDT code is not in the PDT catalogue: 0" in captured.out
