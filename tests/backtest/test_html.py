"""The backtest page: the bank's copy and the internal copy, self-contained, escaped and masked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from proxy.backtest.html import masked_example, render_html
from proxy.backtest.report import Backtest, build_backtest
from proxy.privacy import find_personal_data
from proxy.state.records import ShadowResult

from .support import AT, RULES, dt_answer, result

SINCE = AT - timedelta(days=7)


def backtest(results: list[ShadowResult]) -> Backtest:
    return build_backtest("acme", results, RULES, window_from=SINCE, window_to=AT)


# Ready needs time coverage too: 100 samples over the last 72 hours (4 distinct days).
READY = [result(at=AT - timedelta(hours=72.0 * n / 99)) for n in range(100)]
NOT_READY = [result(dt_answer(40.0), dt_answer(90.0, rating="Low")) for _ in range(5)]


@pytest.mark.parametrize(
    ("results", "options", "present", "absent"),
    [
        # The bank's copy: Portuguese, the tenant's name, plain words, no rule id, no latency.
        (
            READY,
            {},
            ["<html lang=\"pt-BR\">", "Backtest da migração para a PDT: Banco Exemplo",
             "Pronto para a virada para a PDT", "100 chamadas comparadas", "Cópia para o cliente"],
            ["dt.resp.score", "p95", "Agreement per field", "Ready for cut-over"],
        ),
        (
            NOT_READY,
            {},
            ["Ainda não está pronto para a virada", "não atendidos:", "respostas comparadas",
             "o score de risco (0 a 100)", "diferença maior que a tolerância combinada"],
            ["dt.resp.score", "match_rate"],
        ),
        # The internal copy keeps the rule names and the latency detail.
        (
            NOT_READY,
            {"internal": True},
            ["dt.resp.score", "p95", "Concordância por campo", "Cópia interna"],
            [],
        ),
        # English on request, numbers in the English format.
        (
            NOT_READY,
            {"locale": "en", "internal": True},
            ["<html lang=\"en\">", "Not ready for cut-over yet", "PDT migration backtest: Banco Exemplo",
             "Agreement per field", "Brasília time"],
            ["Ainda não"],
        ),
    ],
)  # fmt: skip
def test_each_copy_says_what_its_reader_needs(
    results: list[ShadowResult], options: dict[str, object], present: list[str], absent: list[str]
) -> None:
    html = render_html(backtest(results), tenant_name="Banco Exemplo", mapping_version="abc123", **options)  # type: ignore[arg-type]
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html


def test_the_header_names_window_coverage_generation_and_mapping_version() -> None:
    one_hour = [result() for _ in range(100)]
    html = render_html(
        backtest(one_hour), tenant_name="Banco Exemplo", mapping_version="0a1b2c3d4e5f", generated_at=AT
    )
    # AT is 12:00 UTC: 09:00 in Brasília, zone named.
    assert "20/11/2026 09:00 (horário de Brasília)" in html
    assert "13/11/2026 09:00 (horário de Brasília)" in html
    assert "0a1b2c3d4e5f" in html
    # Every sample sits in one business hour of one day, out of 8 days and 50 business hours.
    assert "amostras em 1 de 8 dias; em 1 de 50 horas úteis" in html


@pytest.mark.parametrize(
    ("products", "shown"),
    [(["mobile-trust"], True), (["datatrust-v1"], False), ([], False)],
)
def test_the_sms_behaviour_change_is_told_to_mobile_trust_clients(products: list[str], shown: bool) -> None:
    html = render_html(backtest(READY), tenant_name="Banco", products=products)
    assert ("Mudança de comportamento do SMS" in html) is shown
    assert ("código numérico" in html) is shown


def test_each_kind_of_difference_has_a_masked_example() -> None:
    legacy = dt_answer(40.0) | {"identifierId": "maria.silva@example.com"}
    pdt = dt_answer(40.0) | {"identifierId": "123.456.789-09"}
    html = render_html(backtest([result(legacy, pdt)]), tenant_name="Banco")
    assert "o identificador do pedido" in html
    assert "maria.silva@example.com" not in html
    assert "123.456.789-09" not in html
    assert find_personal_data(html) == []


@pytest.mark.parametrize(
    ("path", "value", "clear"),
    [
        ("Document", "12345678909", "12345678909"),
        ("Email", "ana@example.com", "ana@example.com"),
        ("Phones[].Number", "11988056887", "11988056887"),
        ("identifierId", "pedido de 123.456.789-09", "123.456.789-09"),
    ],
)
def test_examples_are_masked_by_their_field_name_and_shape(path: str, value: str, clear: str) -> None:
    assert clear not in str(masked_example(path, value))


def test_the_page_is_self_contained_escaped_and_script_free() -> None:
    html = render_html(backtest(NOT_READY), tenant_name="acme <script>")
    assert "<script" not in html
    assert "acme &lt;script&gt;" in html
    assert not re.search(r'(src|href)="https?://', html)
    assert "<link" not in html
    assert " style=" not in html  # colours are classes of the one stylesheet
    assert html.count("<svg") >= 3


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("pt_BR", ["horas cobertas pelas amostras", "dias distintos com amostras"]),
        ("en", ["hours the samples span"]),
    ],
)
def test_a_burst_of_samples_is_not_ready_and_says_time_is_missing(locale: str, words: list[str]) -> None:
    # 150 samples within one minute: enough of them, but no business hours or days covered.
    html = render_html(backtest([result() for _ in range(150)]), locale=locale)
    assert "pronto para a virada" not in html.replace("não está pronto", "") or locale == "en"
    for word in words:
        assert word in html
    assert "check_" not in html  # every criterion in plain words
