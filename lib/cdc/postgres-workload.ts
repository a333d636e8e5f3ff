/**
 * cdc-workload: the simulated producer's realistic mix of changes (lib/cdc/generator.ts: inserts modelled
 * on existing customers, income / purchase / campaign / visit updates, deletes), made real: each change is
 * an INSERT, UPDATE (of the changed columns only) or DELETE on the PostgreSQL table, in transactions of
 * 1–10 statements. The table's current rows seed the generator, so the same table and seed give the
 * same SQL.
 */
import type { ChangeEvent } from './envelope';
import type { CustomerRow } from './features';
import { generateChanges, prng } from './generator';
import { pgClient, pgColumn, readTable } from './postgres-source';

export interface WorkloadSummary {
  inserts: number;
  updates: number;
  deletes: number;
  transactions: number;
  elapsed_ms: number;
  interrupted: boolean;
}

export async function runWorkload(opts: {
  url: string;
  table: string;
  updates: number;
  seed: number;
  /** Largest transaction (statements); default 10. */
  maxTransaction?: number;
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
}): Promise<WorkloadSummary> {
  const t0 = Date.now();
  const rows = await readTable(opts.url, opts.table);
  if (!rows.length) throw new Error(`public.${opts.table} is empty: load it with cdc-source first`);
  const columns = new Set(Object.keys(rows[0]));
  const sizes = prng(opts.seed ^ 0x5eed);
  const maxTx = opts.maxTransaction ?? 10;
  const summary: WorkloadSummary = { inserts: 0, updates: 0, deletes: 0, transactions: 0, elapsed_ms: 0, interrupted: false };
  const client = pgClient(opts.url);
  await client.connect();
  try {
    let inTx = 0;
    let txSize = 0;
    const commit = async () => {
      if (!inTx) return;
      await client.query('COMMIT');
      summary.transactions++;
      inTx = 0;
    };
    let done = 0;
    for (const m of generateChanges(rows, { seed: opts.seed, updates: opts.updates, insertRatio: 0.1, deleteRatio: 0.05 })) {
      if (m.kind !== 'insert' && m.kind !== 'update' && m.kind !== 'delete') continue;
      if (opts.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      if (!inTx) {
        await client.query('BEGIN');
        txSize = 1 + Math.floor(sizes() * maxTx);
      }
      const e = JSON.parse(m.value!) as ChangeEvent;
      await client.query(...statement(opts.table, e, columns));
      summary[m.kind === 'insert' ? 'inserts' : m.kind === 'update' ? 'updates' : 'deletes']++;
      if (++inTx >= txSize) await commit();
      opts.onProgress?.(++done);
    }
    await commit();
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
  summary.elapsed_ms = Date.now() - t0;
  return summary;
}

/** The SQL of one generated change: INSERT of the row, UPDATE of the columns that changed, DELETE by id. */
function statement(table: string, e: ChangeEvent, columns: Set<string>): [string, unknown[]] {
  if (e.op === 'd') return [`DELETE FROM public.${table} WHERE id = $1`, [e.before!.ID]];
  const after = e.after as CustomerRow;
  const cols = Object.keys(after).filter((c) => columns.has(c));
  if (e.op === 'c') {
    return [
      `INSERT INTO public.${table} (${cols.map(pgColumn).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
      cols.map((c) => after[c]),
    ];
  }
  const before = (e.before ?? {}) as CustomerRow;
  const changed = cols.filter((c) => c !== 'ID' && before[c] !== after[c]);
  // An update that changes nothing is still an UPDATE: PostgreSQL logs it and Debezium emits it.
  const set = changed.length ? changed : cols.filter((c) => c !== 'ID').slice(0, 1);
  return [
    `UPDATE public.${table} SET ${set.map((c, i) => `${pgColumn(c)} = $${i + 2}`).join(', ')} WHERE id = $1`,
    [after.ID, ...set.map((c) => after[c])],
  ];
}
