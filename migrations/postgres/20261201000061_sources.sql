-- Inbound webhooks. A source is where a partner posts (`/in/{id}`): its settings document
-- (verification secrets sealed under the master key) and its state. Every request it gets
-- is kept in `inbound_requests` with its verdict, whatever the verdict.
CREATE TABLE sources (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    config      TEXT NOT NULL,
    tenant      TEXT,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);

CREATE TABLE inbound_requests (
    id           TEXT PRIMARY KEY,
    source_id    TEXT NOT NULL REFERENCES sources (id),
    received_at  BIGINT NOT NULL,
    remote_addr  TEXT NOT NULL,
    headers      TEXT NOT NULL,
    body         BYTEA NOT NULL,
    verdict      TEXT NOT NULL CHECK (verdict IN ('accepted', 'duplicate', 'refused', 'invalid')),
    reason       TEXT,
    status       BIGINT NOT NULL,
    event_id     TEXT,
    dedup_key    TEXT
);
CREATE INDEX inbound_requests_source ON inbound_requests (source_id, received_at);
CREATE INDEX inbound_requests_received ON inbound_requests (received_at);
