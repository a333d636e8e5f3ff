import type { CdcState, EventPosition } from './state';

/**
 * Debezium's truncate (`op: "t"`, no key, no rows) at `lsn`: every live row whose last change is older
 * is deleted at that lsn, through the ordinary delete path, so the statistics lose exactly those rows'
 * terms and a stale event for them is skipped afterwards. Rows changed after the truncate (a higher lsn)
 * stay. Counted as one applied event (or one skipped, when it finds nothing left to delete: a
 * re-delivery). `at` (where the truncate was read) queues the deletes for pruning like any delete's.
 * Returns the keys it deleted.
 */
export function applyTruncate(state: CdcState, lsn: number, at?: EventPosition): number[] {
  const ids: number[] = [];
  for (const [id, k] of state.keys) if (k.row !== null && k.lsn < lsn) ids.push(id);
  for (const id of ids) state.apply(id, { op: 'd', before: null, after: null, ts_ms: 0, source: { table: '', lsn, snapshot: false } }, at);
  if (ids.length) state.counters.events_applied += 1 - ids.length;
  else state.counters.events_skipped++;
  return ids;
}
