-- The migration autopilot (proxy/autopilot): a plan per tenant (optionally per
-- product), every decision it took (held ones too) with the figures behind it,
-- and the lease that makes one replica the decider. No personal data: tenant and
-- product names, stage labels, gate figures. Times: TIMESTAMPTZ.

-- One plan per (tenant, product); product '' = the tenant as a whole (as in
-- stage_override). plan: the steps, gates and hold as JSON (proxy.autopilot_plan).
-- status: active (promotes and rolls back), paused (does nothing), halted (after a
-- rollback: still rolls back, promotes again only once an operator resumes).
CREATE TABLE autopilot_plan (
    tenant TEXT NOT NULL,
    product TEXT NOT NULL,
    plan TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    -- The legacy side's p99 (ms) measured in shadow when the plan left it: what
    -- "added latency" is measured against once no legacy side answers any more.
    baseline_p99_ms DOUBLE PRECISION,
    PRIMARY KEY (tenant, product)
);

-- Every evaluation's outcome, append only. step_started: when the step judged
-- began (the stage override's time), so that a promote or a rollback is taken at
-- most once per step however many replicas evaluate (the unique index below).
CREATE TABLE autopilot_decision (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    tenant TEXT NOT NULL,
    product TEXT NOT NULL,
    decision TEXT NOT NULL,
    from_stage TEXT NOT NULL,
    to_stage TEXT NOT NULL,
    step_started TIMESTAMPTZ NOT NULL,
    reason TEXT NOT NULL,
    figures JSON NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX autopilot_decision_tenant_at ON autopilot_decision (tenant, at);
CREATE UNIQUE INDEX autopilot_decision_once ON autopilot_decision (tenant, product, from_stage, step_started)
    WHERE decision <> 'hold';

-- One row per lease: who decides until when. Taken when free or expired,
-- renewed by its holder; works the same on SQLite (one host) and PostgreSQL (a fleet).
CREATE TABLE autopilot_lease (
    lease TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Why the legacy side answered a pdt-fallback request (timeout, unavailable, ...),
-- NULL otherwise: the autopilot's fallback rate by cause comes from every replica's
-- ledger rows, not one process's counters.
ALTER TABLE ledger ADD COLUMN fallback TEXT;
-- The autopilot reads one tenant's recent rows per stage.
CREATE INDEX ledger_tenant_stage_at ON ledger (tenant, stage, at);
