-- A delivery changes status two or three times in its life, and every change writes a new
-- entry into each index whose key or predicate covers it (on Postgres a status change is
-- never a HOT update). The table keeps the indexes some query reads, and partial ones where
-- the query reads a few statuses:
-- - the open work (pending, failed) is read through deliveries_open_due and
--   deliveries_endpoint_due, not through (status, next_attempt_at);
DROP INDEX deliveries_due;
-- - per-endpoint in-flight counts, the lease sweep and the shutdown hand-back read the
--   in-flight rows (at most every node's max_in_flight) through deliveries_endpoint_in_flight,
--   so a lease renewal changes no indexed column (on Postgres, a HOT update);
DROP INDEX deliveries_leased;
DROP INDEX deliveries_endpoint_status;
-- - dead letters and cancelled deliveries (replayed per endpoint, counted by the stats) have
--   their own small index, written once when a delivery gives up;
CREATE INDEX deliveries_given_up ON deliveries (endpoint_id, created_at) WHERE status IN ('dead', 'cancelled');
-- - only replayed deliveries carry a replay id.
DROP INDEX deliveries_replay;
CREATE INDEX deliveries_replay ON deliveries (replay_id, status) WHERE replay_id IS NOT NULL;
