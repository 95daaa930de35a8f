-- Leases belong to claims: each claim writes its own token, and only a holder of that token
-- may renew or complete the delivery (a stale task cannot finish a newer claim).
ALTER TABLE deliveries ADD COLUMN lease_token TEXT;

-- Rate limits shared by every node: one token bucket per rate-limited endpoint, refilled and
-- spent inside the claim's transaction (the row lock serialises nodes).
CREATE TABLE endpoint_budgets (
    endpoint_id TEXT PRIMARY KEY,
    tokens      REAL NOT NULL,
    refilled_at BIGINT NOT NULL
);

-- Per-endpoint claims of limited endpoints, and their in-flight count across nodes.
CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint_id, next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_endpoint_in_flight ON deliveries (endpoint_id) WHERE status = 'in_flight';

-- The open claim skips limited and saturated endpoints' due rows: with the endpoint in the
-- index, SQLite tests that from the index entry without reading the row.
DROP INDEX deliveries_open_due;
CREATE INDEX deliveries_open_due ON deliveries (next_attempt_at, endpoint_id) WHERE status IN ('pending', 'failed');
