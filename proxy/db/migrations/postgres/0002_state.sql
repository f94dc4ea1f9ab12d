-- Runtime state: stage overrides set through the admin API, their audit log, and
-- shadow comparison results (the backtest). No personal data: tenant and product
-- names, stage labels, the admin identity that made a change, request ids,
-- statuses, latencies, and comparisons whose values the engine has already masked.

-- The stage in force per (tenant, product), overriding the tenant file.
-- product '' = the tenant's default stage: NULL cannot be in a primary key, and a
-- NULL in a unique key would never collide with another NULL (before PostgreSQL
-- 15's NULLS NOT DISTINCT), so '' stands for "no product" and the store maps it to None.
CREATE TABLE stage_override (
    tenant TEXT NOT NULL,
    product TEXT NOT NULL,
    stage TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (tenant, product)
);

-- Every stage change, append only (written in the same transaction as the override).
CREATE TABLE stage_audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    tenant TEXT NOT NULL,
    product TEXT NOT NULL,
    from_stage TEXT NOT NULL,
    to_stage TEXT NOT NULL
);
-- The admin API reads the newest changes, of every tenant or of one.
CREATE INDEX stage_audit_at ON stage_audit (at);
CREATE INDEX stage_audit_tenant_at ON stage_audit (tenant, at);

-- One row per shadow sample. The scalar columns are what reports filter and
-- aggregate on; the comparison itself is JSON (proxy.comparison.codec). JSON, not
-- JSONB: stored as written (key order kept, so it reads back exactly as on SQLite)
-- and still queryable with the JSON operators.
CREATE TABLE shadow_result (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    tenant TEXT NOT NULL,
    product TEXT NOT NULL,
    operation TEXT NOT NULL,
    environment TEXT NOT NULL,
    request_id TEXT NOT NULL,
    legacy_status SMALLINT NOT NULL,
    pdt_status SMALLINT NOT NULL,
    legacy_ms DOUBLE PRECISION NOT NULL,
    pdt_ms DOUBLE PRECISION NOT NULL,
    matched BOOLEAN NOT NULL,
    compared INTEGER NOT NULL,
    comparison JSON NOT NULL
);
-- Reports read one tenant's time window; retention deletes by time.
CREATE INDEX shadow_result_tenant_at ON shadow_result (tenant, at);
CREATE INDEX shadow_result_at ON shadow_result (at);
