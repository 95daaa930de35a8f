#!/usr/bin/env bash
# The open claim's candidate query on a Postgres table shaped like the batch burst's (one
# endpoint, 40,000 delivered and 20,000 waiting deliveries, statistics taken), explained
# with JIT off (as Hookline's connections run) and with the server's default (on).
# Run beside a throwaway cluster:
#   scripts/with-postgres.sh scripts/claim-jit.sh
set -euo pipefail
BIN="${HOOKLINE_BIN:-target/release/hookline}"
U="$HOOKLINE_TEST_PG_URL/claim_jit"
DATABASE_URL="$U" "$BIN" migrate >/dev/null
psql "$U" -q <<'SQL'
INSERT INTO endpoints (id, name, url, enabled, config, created_at, updated_at) VALUES ('ep1', 'e', 'http://x', TRUE, '{}', 0, 0);
INSERT INTO events (id, event_type, envelope, created_at) SELECT 'evt' || g, 'a', '{"x":1}', g FROM generate_series(1, 60000) g;
INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at, ordered)
  SELECT 'dlv' || g, 'evt' || g, 'ep1', CASE WHEN g <= 40000 THEN 'succeeded' ELSE 'pending' END, 0, g, g, g, FALSE
  FROM generate_series(1, 60000) g;
ANALYZE;
SQL
# The candidates of `claim_open` (server/src/engine/store/claims.rs), FIFO test included.
Q="SELECT d.id FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
   WHERE e.enabled = TRUE AND e.deleted_at IS NULL AND d.status IN ('pending', 'failed')
     AND d.next_attempt_at <= 99999999
     AND (d.ordered = FALSE OR NOT EXISTS (SELECT 1 FROM deliveries p
          WHERE p.endpoint_id = d.endpoint_id AND p.ordered = TRUE AND p.status IN ('pending', 'failed', 'in_flight')
            AND (p.created_at < d.created_at OR (p.created_at = d.created_at AND p.id < d.id))))
   ORDER BY d.next_attempt_at LIMIT 400"
for jit in off on; do
  echo "== jit = $jit"
  psql "$U" -c "SET jit = $jit" -c "EXPLAIN (ANALYZE, SUMMARY ON) $Q" | grep -E "^ Limit|JIT:|Timing:|Execution Time"
done
