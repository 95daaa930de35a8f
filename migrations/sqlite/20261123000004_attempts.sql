-- Every delivery attempt, as sent and as answered (secrets masked, bodies cut at 64 KiB).
CREATE TABLE attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries (id),
    attempt          INTEGER NOT NULL,
    node             TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    url              TEXT NOT NULL,
    request_headers  TEXT NOT NULL,
    request_body     TEXT NOT NULL,
    response_status  INTEGER,
    response_headers TEXT,
    response_body    TEXT,
    error_class      TEXT,
    error            TEXT
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt);

-- FIFO endpoints: copied from the endpoint when the delivery is created.
ALTER TABLE deliveries ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status);
