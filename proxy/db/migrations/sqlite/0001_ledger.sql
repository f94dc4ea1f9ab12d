-- One row per legacy transaction. No personal data: identifiers and outcomes only.
-- at: UTC, ISO-8601 with microseconds and a Z, so text order is time order and
-- month ranges are plain string comparisons that use the index.
CREATE TABLE ledger (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    tenant TEXT NOT NULL,
    product TEXT NOT NULL,
    operation TEXT NOT NULL,
    stage TEXT NOT NULL,
    side TEXT NOT NULL,
    pdt_transaction_id TEXT,
    modules TEXT NOT NULL,
    status INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    request_id TEXT NOT NULL
);
-- Billing reads one month, usually per tenant.
CREATE INDEX ledger_at ON ledger (at);
CREATE INDEX ledger_tenant_at ON ledger (tenant, at);
