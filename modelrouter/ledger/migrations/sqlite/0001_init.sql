-- The ledger: one row per request, one per attempt. Money is integer micro-USD.
-- Rows only move forward: an upsert applies when its version is higher than the stored one.
CREATE TABLE requests (
    request_id        TEXT PRIMARY KEY,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    key_id            TEXT,
    client_request_id TEXT,
    client_protocol   TEXT,
    stream            INTEGER NOT NULL DEFAULT 0,
    requested_model   TEXT,
    model             TEXT,
    substituted_from  TEXT,
    policy            TEXT,
    provider          TEXT,
    offering          TEXT,
    region            TEXT,
    provider_model    TEXT,
    state             TEXT NOT NULL,
    http_status       INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,
    input_tokens      INTEGER NOT NULL DEFAULT 0,
    output_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_micro_usd    INTEGER NOT NULL DEFAULT 0,
    usage_source      TEXT NOT NULL DEFAULT 'none',
    latency_ms        REAL,
    ttft_ms           REAL,
    error             TEXT,
    version           INTEGER NOT NULL
);
CREATE INDEX requests_created_at ON requests (created_at);
CREATE INDEX requests_key_created ON requests (key_id, created_at);

CREATE TABLE attempts (
    request_id        TEXT NOT NULL,
    attempt_no        INTEGER NOT NULL,
    provider          TEXT NOT NULL,
    offering          TEXT NOT NULL,
    region            TEXT,
    provider_model    TEXT,
    state             TEXT NOT NULL,
    http_status       INTEGER,
    started_at        TEXT NOT NULL,
    ended_at          TEXT,
    input_tokens      INTEGER NOT NULL DEFAULT 0,
    output_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_micro_usd    INTEGER NOT NULL DEFAULT 0,
    usage_source      TEXT NOT NULL DEFAULT 'none',
    error             TEXT,
    version           INTEGER NOT NULL,
    PRIMARY KEY (request_id, attempt_no)
);
