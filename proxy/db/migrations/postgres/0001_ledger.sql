-- One row per legacy transaction. No personal data: identifiers and outcomes only.
CREATE TABLE ledger (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    tenant TEXT NOT NULL,
    product TEXT NOT NULL,
    operation TEXT NOT NULL,
    stage TEXT NOT NULL,
    side TEXT NOT NULL,
    pdt_transaction_id TEXT,
    modules TEXT NOT NULL,
    status SMALLINT NOT NULL,
    latency_ms DOUBLE PRECISION NOT NULL,
    request_id TEXT NOT NULL
);
-- Billing reads one month, usually per tenant.
CREATE INDEX ledger_at ON ledger (at);
CREATE INDEX ledger_tenant_at ON ledger (tenant, at);
