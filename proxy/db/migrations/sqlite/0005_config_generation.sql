-- Live configuration reloads (proxy/live): one row per reload asked of any
-- replica (POST /admin/reload, SIGHUP, a file watcher), refused ones too. It is
-- the reload audit, and the highest id of an 'ok' row is the configuration
-- generation every replica polls: when it moves, each replica reloads its own
-- files. No personal data: actors, hashes, file and rule names.
CREATE TABLE config_reload (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    -- api, signal or watch
    trigger TEXT NOT NULL,
    -- ok or refused
    outcome TEXT NOT NULL,
    -- The combined sha256 the asking replica loaded ('' when refused).
    version TEXT NOT NULL,
    -- The refusal: file, rule and reason as pdt-proxy lint words them.
    detail TEXT NOT NULL
);
-- The poll reads the newest ok generation every second on every replica.
CREATE INDEX config_reload_outcome_id ON config_reload (outcome, id);
