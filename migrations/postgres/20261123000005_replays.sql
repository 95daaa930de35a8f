-- Bulk replays: which deliveries a replay re-queued, so its progress can be polled.
CREATE TABLE replays (
    id            TEXT PRIMARY KEY,
    endpoint_id   TEXT NOT NULL REFERENCES endpoints (id),
    status_filter TEXT NOT NULL,
    since         BIGINT,
    total         BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
ALTER TABLE deliveries ADD COLUMN replay_id TEXT;
CREATE INDEX deliveries_replay ON deliveries (replay_id, status);
