/** The WebSocket section's settings (BENCH_WS_* variables) and targets, shared by its modules. */
import { envNumber } from '../../lib/stack.mjs';

export const settings = {
  clients: envNumber('BENCH_WS_CLIENTS', 1000),
  client_processes: envNumber('BENCH_WS_CLIENT_PROCS', 2),
  rate: envNumber('BENCH_WS_RATE', 20),
  /** Windows per server at `rate`, alternating bare / Beacon (ABBAAB...). */
  rounds: envNumber('BENCH_WS_ROUNDS', 3),
  /** Before a server's first window (JIT, connections settling) ... */
  warmup_s: envNumber('BENCH_WS_WARMUP', 5),
  /** ... and before its later ones. */
  settle_s: envNumber('BENCH_WS_SETTLE', 2),
  duration_s: envNumber('BENCH_WS_DURATION', 8),
  high_rate: envNumber('BENCH_WS_HIGH_RATE', 100),
  high_warmup_s: envNumber('BENCH_WS_HIGH_WARMUP', 2),
  high_duration_s: envNumber('BENCH_WS_HIGH_DURATION', 6),
  /** The rate of the profiled windows (--profile, or a missed target): `rate` or `high_rate`. */
  profile_rate: envNumber('BENCH_WS_PROFILE_RATE', envNumber('BENCH_WS_RATE', 20)),
  /** After the last trigger, how long to wait at most for every client to have every message. */
  drain_s: envNumber('BENCH_WS_DRAIN', 10),
  connect_concurrency: 50,
  trigger_subject: 'bench.ws.trigger',
};

export const TARGETS = { delivered_vs_bare: 0.5, p99_vs_bare: 1.5 };

export const round = (v, d = 0) => (v === null || v === undefined ? null : Math.round(v * 10 ** d) / 10 ** d);
