"""The legacy simulator: Data Trust v1, Financial Fraud Radar and Mobile Trust as their
contracts under ``mappings/`` describe them, for laptops, tests, shadow runs and benchmarks.

``create_legacy_simulator(settings, catalog=..., accounts=...)`` builds a Starlette
app (mount it in process, or run ``pdt-proxy simulate legacy --port N``) serving
every route each ``product.yaml`` declares, on its PRD and HML prefixes, with the
proxy's own request gates (case-insensitive binding, the contract schemas) and
error tables, so every error is the legacy family's shape.

Answers come from the same ``PersonProfile`` the PDT simulator answers from
(``proxy.simulators.profile``): the same score, ratings and insights for the data
the request carries, expressed in each product's vocabulary through its DE-PARA
tables (``vocabulary``; answer builders in ``datatrust``, ``ffr``,
``mobile_trust``). So the proxy's translation of the PDT simulator's answer and this
simulator's answer agree, except for the people ``perturbation`` picks
(``disagreement_rate``), whose answers differ by a bounded amount.

Choices where the contracts are silent (all reconstructed):

- one token space per authentication endpoint and environment: a Data Trust token
  is refused (401) on the v1 family's routes, and a PRD token on HML;
- an account may be limited to some products (``grants``): its token gets the
  family's 403 on the others, and its login on an endpoint none of its products use
  is refused as bad credentials;
- transaction ids are fresh UUIDs; another account's (or product's) id is 404;
- Data Trust 2FA: the code is ``proxy.simulators.otp.token_code(id, channel)``; a
  channel the transaction has no data for, or validating before sending, is a 400
  on ``Channel`` / ``Value``; a validated SMS code lowers the score as PDT does;
- Mobile Trust's SMS: see ``sms`` (Blocked/Sent on POST, then the person's reply);
- latency, faults (the family's 503) and timeouts (held, then the family's 504) on
  every legacy route, authentication included; see ``middleware``.
"""

from proxy.simulators.legacy.accounts import DEMO_ACCOUNTS, DEMO_GRANTS, accounts_from_tenants
from proxy.simulators.legacy.app import create_legacy_simulator
from proxy.simulators.legacy.settings import LegacySimulatorSettings

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_GRANTS",
    "LegacySimulatorSettings",
    "accounts_from_tenants",
    "create_legacy_simulator",
]
