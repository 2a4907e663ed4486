-- Virtual keys: only a keyed hash (HMAC-SHA256) of each key is stored, never the key.
CREATE TABLE api_keys (
    key_id         TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    key_hash       TEXT NOT NULL UNIQUE,
    policy         JSONB,
    models         JSONB,
    providers      JSONB,
    budget_micro_usd BIGINT,
    budget_period  TEXT,
    rpm            INTEGER,
    tpm            INTEGER,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ,
    revoked_at     TIMESTAMPTZ
);
CREATE INDEX api_keys_name ON api_keys (name);

-- Settings the gateway generates once and every instance shares (the key-hashing secret).
CREATE TABLE modelrouter_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
