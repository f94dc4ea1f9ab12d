-- Recorded legacy exchanges (the replay corpus), written by every worker and
-- replica so that `pdt-proxy record export` sees all of them, not one pod's disk.
-- `line` is one corpus line (mappings/corpus.schema.json) exactly as the recorder
-- made it: every CPF, e-mail, phone and name already replaced by a consistent
-- pseudonym, no header but the content type, a one-time code marked not
-- replayable (proxy/replay/capture.py). The scalar columns are what export
-- filters on and retention deletes by.
CREATE TABLE recorded_exchange (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    tenant TEXT NOT NULL,
    product TEXT NOT NULL,
    operation TEXT NOT NULL,
    line TEXT NOT NULL
);
-- Export reads one tenant's time window; retention deletes by time.
CREATE INDEX recorded_exchange_tenant_at ON recorded_exchange (tenant, at);
CREATE INDEX recorded_exchange_at ON recorded_exchange (at);
