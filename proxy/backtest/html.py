"""A backtest as one self-contained HTML page: the stylesheet inlined, SVG charts, no script.

Two audiences. The **bank's copy** (the default) is what an account manager attaches
to an e-mail to a bank: in Portuguese unless asked otherwise, titled with the
tenant's name, saying which window it covers and how well, which mapping version
produced it, with plain words instead of rule ids and one masked example for each
kind of difference; for Mobile Trust it carries the SMS behaviour change the client
must be told about. The **internal copy** adds the rule names, per-field agreement,
latency percentiles and the engine's notes.

Examples are masked again here (proxy/privacy/) although shadow results are
masked before they are stored: a report leaves the company, so it does not trust
its input to have been masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from proxy.backtest.report import Backtest, FieldDifferences
from proxy.pages.i18n import DEFAULT_LOCALE, Translator, translator
from proxy.pages.templates import render, stylesheet
from proxy.privacy import mask_value

__all__ = ["figures_context", "masked_example", "render_html"]


def masked_example(path: str, value: Any) -> Any:
    """``value`` masked as the field at ``path`` deserves (its last name decides the rule)."""
    leaf = path.replace("[]", "").rsplit(".", 1)[-1]
    return mask_value(leaf, value)


def _masked(item: FieldDifferences) -> FieldDifferences:
    return replace(
        item,
        example_legacy=masked_example(item.field, item.example_legacy),
        example_pdt=masked_example(item.field, item.example_pdt),
    )


def figures_context(backtest: Backtest, t: Translator) -> dict[str, Any]:
    """What ``_backtest_figures.html`` needs besides the backtest: chart rows and plain failures."""
    return {
        "backtest": backtest,
        "operation_bars": [(name, float(count)) for name, count in backtest.by_operation.items()],
        "gap_bars": [(label, float(count)) for label, count in backtest.score_delta_histogram.items()],
        "failing_words": [t("check_" + check.name) for check in backtest.checks if not check.passed],
    }


def render_html(
    backtest: Backtest,
    *,
    tenant_name: str | None = None,
    products: Sequence[str] = (),
    internal: bool = False,
    locale: str = DEFAULT_LOCALE,
    mapping_version: str = "",
    generated_at: datetime | None = None,
) -> str:
    t = translator(locale)
    return render(
        "backtest_report.html",
        t=t,
        css=stylesheet(),
        internal=internal,
        tenant_name=tenant_name or backtest.tenant,
        products=list(products),
        coverage=backtest.coverage,
        generated_at=generated_at or datetime.now(UTC),
        mapping_version=mapping_version or t("n_a"),
        differences=[_masked(item) for item in backtest.top_differences],
        **figures_context(backtest, t),
    )
