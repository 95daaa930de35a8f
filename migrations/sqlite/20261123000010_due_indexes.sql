-- The claim reads due work in time order from these, not from every row a status ever had:
-- an ordered scan of a partial index skips (and, on Postgres, marks) the index entries of
-- rows updated since, where a bitmap scan of (status, next_attempt_at) rechecks them all.
CREATE INDEX deliveries_open_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_leased ON deliveries (lease_expires_at) WHERE status = 'in_flight';
