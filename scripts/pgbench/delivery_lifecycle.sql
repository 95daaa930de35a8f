-- One delivery life cycle in three transactions, 250 rows each: insert events and deliveries,
-- claim the due ones (the open claim's shape), record them as succeeded. Used to weigh index
-- changes on deliveries; see the README's Benchmarks. Run against a database with
-- migrations/postgres applied and 20 endpoints ep_1..ep_20 (fill.sql):
--   pgbench -n -f delivery_lifecycle.sql -c 4 -j 2 -T 15 DB
\set n 250
\set tag random(1, 2000000000)
BEGIN;
INSERT INTO events (id, event_type, envelope, created_at) SELECT 'e'||:client_id||'_'||:tag||'_'||g, 't', repeat('x',300), 1 FROM generate_series(1,:n) g;
INSERT INTO deliveries (id,event_id,endpoint_id,status,attempts,next_attempt_at,created_at,updated_at) SELECT 'd'||:client_id||'_'||:tag||'_'||g, 'e'||:client_id||'_'||:tag||'_'||g, 'ep_'||(g%20+1), 'pending', 0, (extract(epoch from clock_timestamp())*1000)::bigint, 1, 1 FROM generate_series(1,:n) g;
COMMIT;
BEGIN;
SET LOCAL synchronous_commit = off;
UPDATE deliveries SET status='in_flight', lease_owner='n', lease_token='t'||:client_id||'_'||:tag, lease_expires_at=100, updated_at=2 WHERE id IN (SELECT d.id FROM deliveries d JOIN endpoints e ON e.id=d.endpoint_id WHERE e.enabled AND d.status IN ('pending','failed') AND d.next_attempt_at <= (extract(epoch from clock_timestamp())*1000)::bigint ORDER BY d.next_attempt_at LIMIT :n FOR UPDATE OF d SKIP LOCKED);
COMMIT;
BEGIN;
UPDATE deliveries SET status='succeeded', lease_owner=NULL, lease_token=NULL, lease_expires_at=NULL, completed_at=3, updated_at=3, attempts=1 WHERE lease_token='t'||:client_id||'_'||:tag AND status='in_flight';
COMMIT;
