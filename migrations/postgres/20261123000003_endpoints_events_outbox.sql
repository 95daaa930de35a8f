-- Endpoints keep their validated settings as JSON (`config`, credentials included, never
-- sent out unmasked); the columns beside it are what queries filter on.
CREATE TABLE endpoints (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    url             TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    tenant          TEXT,
    config          TEXT NOT NULL,
    disabled_reason TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT
);

-- Signing secrets: the current one (expires_at NULL) and, after a rotation, the previous
-- one until it expires.
CREATE TABLE endpoint_secrets (
    endpoint_id TEXT NOT NULL REFERENCES endpoints (id),
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets (endpoint_id);

-- Accepted events, as the envelope sent to receivers.
CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    event_type      TEXT NOT NULL,
    tenant          TEXT,
    idempotency_key TEXT,
    envelope        TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX events_type_time ON events (event_type, created_at);
CREATE INDEX events_time ON events (created_at);

-- The outbox: one row per event and matching endpoint, written with the event.
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events (id),
    endpoint_id      TEXT NOT NULL REFERENCES endpoints (id),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'in_flight', 'succeeded', 'failed', 'dead', 'cancelled')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    last_status_code BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    completed_at     BIGINT
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at);

CREATE TABLE idempotency_keys (
    key        TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Bumped in the same transaction as any change to event types or endpoints, so every
-- publisher (on every node) knows when to reload its routing cache.
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
