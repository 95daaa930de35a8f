#!/usr/bin/env python3
"""The disk's floor under a durable commit: append 4 KiB to a file and fsync it, N times,
and print the percentiles of each fsync (what SQLite's synchronous=FULL commit and
Postgres's synchronous_commit=on wait for at least once per commit).

    scripts/fsync-latency.py [DIR] [N]     # defaults: the system temp dir, 2000
"""
import os
import sys
import tempfile
import time

directory = sys.argv[1] if len(sys.argv) > 1 else tempfile.gettempdir()
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
path = os.path.join(directory, f"fsync-latency-{os.getpid()}")
block = os.urandom(4096)
times = []
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
try:
    for _ in range(n):
        os.write(fd, block)
        t = time.perf_counter()
        os.fsync(fd)
        times.append((time.perf_counter() - t) * 1000)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
pct = lambda p: times[min(len(times) - 1, int(p * len(times)))]
print(f"{n} fsyncs of a 4 KiB append in {directory}: "
      f"p50 {pct(0.50):.2f} ms, p95 {pct(0.95):.2f} ms, p99 {pct(0.99):.2f} ms, max {times[-1]:.2f} ms")
