-- Test-fire goes through the outbox like any event: its delivery is marked, so the engine
-- sends it once, at once and outside the endpoint's limits and batches, and the caller
-- reads the answer from the attempt log.
ALTER TABLE deliveries ADD COLUMN test_fire BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX deliveries_test_fire ON deliveries (created_at) WHERE test_fire AND status IN ('pending', 'failed');
