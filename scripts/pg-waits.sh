#!/usr/bin/env bash
# A wait-event profile of Hookline's Postgres connections: samples pg_stat_activity every
# 10 ms for SECONDS from one psql session and prints, per state and wait event, the share
# of the samples and the connections it held on average. Without a URL it finds the
# cluster `hookline bench` started (its `postgres -p PORT` process).
#
#   scripts/pg-waits.sh SECONDS [postgres://user@host:port]
#
# With PG_WAITS_EVERY=N it also prints, every N samples (100 is about a second and a
# half: each sample is a query and a 10 ms sleep), the busiest states of that slice, to
# find one phase of a run in a profile of the whole.
#
# A connection "idle in transaction" with wait event ClientRead is Postgres waiting for
# Hookline's next statement; "active" with IO:WALSync (or LWLock:WALWrite) is a commit
# waiting for its flush; "idle" is a pooled connection nobody is using.
set -euo pipefail
SECONDS_TO_SAMPLE="${1:?seconds}"
URL="${2:-}"
if [ -z "$URL" ]; then
  PORT="$(ps -eo args | sed -n 's/^.*postgres .*-p \([0-9][0-9]*\) .*hookline-bench-pg.*$/\1/p' | head -1)"
  [ -n "$PORT" ] || { echo "pg-waits: no bench cluster running (give a URL)" >&2; exit 1; }
  URL="postgres://postgres@127.0.0.1:$PORT/postgres"
fi
SAMPLES=$((SECONDS_TO_SAMPLE * 100))
{
  echo "\\pset format unaligned"
  echo "\\pset tuples_only on"
  for _ in $(seq "$SAMPLES"); do
    echo "SELECT 's|' || coalesce(state, '-') || '|' || coalesce(wait_event_type || ':' || wait_event, 'CPU') \
FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() \
AND datname <> 'postgres'; SELECT 'tick'; SELECT pg_sleep(0.01);"
  done
} | psql -X -q "$URL" 2>/dev/null | awk -F'|' -v every="${PG_WAITS_EVERY:-0}" '
  $0 == "tick" {
    ticks++
    if (every > 0 && ticks % every == 0) {
      line = sprintf("slice %3d:", ticks / every)
      for (k in slice) if (k !~ /^idle \| /) line = line sprintf("  %s %.2f", k, slice[k] / every)
      print line > "/dev/stderr"
      delete slice
    }
    next
  }
  $1 == "s" { n[$2 " | " $3]++; slice[$2 " | " $3]++; total++ }
  END {
    if (ticks == 0) { print "no samples"; exit 1 }
    printf "%d samples, %.1f connections on average\n", ticks, total / ticks
    for (k in n) printf "%6.1f %%  %5.2f conns  %s\n", 100 * n[k] / total, n[k] / ticks, k
  }' | sort -k1 -rn
