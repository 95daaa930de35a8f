-- The live delivery log: what changed since a moment, and each delivery's last latency.
ALTER TABLE deliveries ADD COLUMN last_duration_ms BIGINT;
CREATE INDEX deliveries_updated ON deliveries (updated_at);
