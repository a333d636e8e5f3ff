import {
  renderTable,
  renderMarkdownTable,
  seriesChartSpec,
  siblingPath,
  writeCsv,
  writeJson,
  writeSvg,
  type CsvValue,
  type TopLevelSpec,
} from '../report';
import type { CacheBenchReport, ModeResult } from './run';
import { fmtBytes } from './run';

/** The CSV's columns: the JSON's per-mode fields, in this order (the per-iteration lists stay in the JSON). */
export const CSV_COLUMNS = [
  'mode',
  'storage_level',
  'first_ms',
  'median_ms',
  'p95_ms',
  'speedup',
  'memory_bytes',
  'disk_bytes',
  'bytes_per_row',
  'result_digest',
  'min_ms',
  'speedup_min',
  'stored_in',
  'stored_bytes',
  'ratio_to_parquet',
  'ratio_to_csv',
  'setup_ms',
  'break_even_queries',
  'memory_bytes_per_row',
  'disk_bytes_per_row',
  'fits',
  'overflow',
  'off_heap_bytes',
  'cached_partitions',
  'total_partitions',
  'storage_freed',
  'digest_stable',
  'skipped',
  'error',
] as const satisfies ReadonlyArray<keyof ModeResult>;

export function csvRows(report: CacheBenchReport): Array<Record<string, CsvValue>> {
  return report.modes.map((m) => Object.fromEntries(CSV_COLUMNS.map((c) => [c, m[c] as CsvValue])));
}

/** Per-iteration time by mode: one line per mode over iterations 1..K (iteration 1 includes materialization). */
export function iterationChartSpec(report: CacheBenchReport): TopLevelSpec {
  const points = report.modes.flatMap((m) => m.iterations_ms.map((ms, i) => ({ series: m.mode, x: i + 1, y: ms })));
  return seriesChartSpec(points, {
    title: `cache-bench: query-mix time per iteration, ${report.rows.toLocaleString('en-US')} rows (Spark ${report.machine.spark_version}, ${report.machine.cores} cores)`,
    xTitle: 'iteration (1 = includes caching)',
    yTitle: 'query mix time (ms)',
    mark: 'line',
    logY: true,
    seriesOrder: report.modes.map((m) => m.mode),
  });
}

/** Speedup against the bytes each mode holds between queries (cache in memory and on disk, or the files). */
export function speedupBytesChartSpec(report: CacheBenchReport): TopLevelSpec {
  const points = report.modes
    .filter((m) => m.speedup !== null && m.stored_bytes !== null)
    .map((m) => ({ series: m.mode, x: Math.round(((m.stored_bytes as number) / 2 ** 20) * 10) / 10, y: m.speedup }));
  return seriesChartSpec(points, {
    title: `cache-bench: steady-state speedup against bytes held, ${report.workload.ledger.rows_held.toLocaleString('en-US')} customers`,
    xTitle: 'bytes held between queries (MiB: cache memory + disk, or the files)',
    yTitle: 'speedup against no cache (×)',
    mark: 'line',
    logY: true,
    seriesOrder: report.modes.map((m) => m.mode),
  });
}

const ms = (v: number | null) => (v === null ? null : Math.round(v).toLocaleString('en-US'));

const TABLE_HEAD = [
  'mode',
  'level',
  'first ms',
  'median ms',
  'p95 ms',
  'speedup',
  'break-even q',
  'memory',
  'disk',
  'B/row',
  '× parquet',
  'digest',
];
const TABLE_RIGHT = [2, 3, 4, 5, 6, 7, 8, 9, 10];

function tableRows(report: CacheBenchReport): Array<Array<string | null>> {
  return report.modes.map((m) => [
    m.mode,
    m.skipped ? 'skipped' : m.error ? 'FAILED' : m.storage_level,
    ms(m.first_ms),
    ms(m.median_ms),
    ms(m.p95_ms),
    m.speedup === null ? null : `${m.speedup.toFixed(2)}×`,
    m.break_even_queries === null ? null : String(m.break_even_queries),
    m.memory_bytes === null ? null : fmtBytes(m.memory_bytes),
    m.disk_bytes === null ? null : fmtBytes(m.disk_bytes),
    m.bytes_per_row === null ? null : m.bytes_per_row.toFixed(1),
    m.ratio_to_parquet === null ? null : m.ratio_to_parquet.toFixed(2),
    m.result_digest ? m.result_digest.slice(0, 12) : null,
  ]);
}

export function renderReportTable(report: CacheBenchReport, plain?: boolean): string {
  return renderTable(TABLE_HEAD, tableRows(report), { alignRight: TABLE_RIGHT, plain });
}

/** The table as Markdown, for READMEs and summary files. */
export function renderReportMarkdown(report: CacheBenchReport): string {
  return renderMarkdownTable(TABLE_HEAD, tableRows(report), { alignRight: TABLE_RIGHT });
}

/** Steady-state median and p95 of each query, by mode: where the mix's time goes. */
export function renderQueryTable(report: CacheBenchReport, plain?: boolean): string {
  const modes = report.modes.filter((m) => !m.skipped && !m.error);
  const head = ['query', ...modes.map((m) => `${m.mode} med/p95 ms`)];
  const rows = report.workload.queries.map((q) => [
    q.name,
    ...modes.map((m) => {
      const st = m.query_stats[q.name];
      return st && st.median_ms !== null ? `${ms(st.median_ms)} / ${ms(st.p95_ms)}` : ms(m.query_ms[q.name]?.[0] ?? null);
    }),
  ]);
  return renderTable(head, rows, { alignRight: modes.map((_, i) => i + 1), plain });
}

export interface WrittenReport {
  json: string;
  csv: string;
  /** Time per iteration by mode. */
  svg: string;
  /** Speedup against bytes held. */
  speedup_svg: string;
}

/** Writes the JSON (the contract), the CSV beside it and the two SVG charts beside it. */
export async function writeReport(report: CacheBenchReport, jsonPath: string): Promise<WrittenReport> {
  const out = {
    json: jsonPath,
    csv: siblingPath(jsonPath, 'csv'),
    svg: siblingPath(jsonPath, 'svg'),
    speedup_svg: siblingPath(jsonPath, 'speedup.svg'),
  };
  writeJson(out.json, report);
  writeCsv(out.csv, csvRows(report), CSV_COLUMNS);
  await writeSvg(out.svg, iterationChartSpec(report));
  await writeSvg(out.speedup_svg, speedupBytesChartSpec(report));
  return out;
}

/** The lines that explain the table: what was compared, and anything skipped, failed or not measured. */
export function reportNotes(report: CacheBenchReport): string[] {
  const notes: string[] = [];
  const parquet = report.baselines.parquet_bytes;
  const l = report.workload.ledger;
  notes.push(
    `${report.rows.toLocaleString('en-US')} generated rows: ${l.rows_quarantined} quarantined, ${l.duplicates_removed + l.duplicate_ids_removed} duplicates removed, ${l.rows_held.toLocaleString('en-US')} customers held (${report.workload.columns} columns) × ${report.iterations} iterations; Parquet ${fmtBytes(parquet)}, CSV ${fmtBytes(report.baselines.csv_bytes)} on disk`,
  );
  notes.push(
    report.digests_equal
      ? 'result digests: equal in every mode'
      : 'result digests DIFFER between modes or iterations: the modes did not compute the same answers',
  );
  if (!report.modes.some((m) => m.mode === 'none' && m.first_ms !== null))
    notes.push('speedup is null: it is measured against the none mode, which did not run');
  if (!report.rest_api.reachable) notes.push(`memory/disk not measured (null): ${report.rest_api.reason}`);
  for (const m of report.modes) {
    if (m.skipped) notes.push(`${m.mode} skipped: ${m.skipped}`);
    if (m.error) notes.push(`${m.mode} failed: ${m.error}`);
    if (m.cached_partitions !== null && m.total_partitions !== null && m.cached_partitions < m.total_partitions) {
      notes.push(`${m.mode}: only ${m.cached_partitions} of ${m.total_partitions} partitions stayed cached (the rest is recomputed)`);
    }
    if (m.overflow === 'spilled to disk' && m.mode !== 'DISK_ONLY')
      notes.push(`${m.mode}: did not fit in storage memory; ${fmtBytes(m.disk_bytes)} spilled to disk`);
    if (m.storage_freed === false) notes.push(`${m.mode}: storage still listed after unpersist`);
  }
  const loads = report.modes.flatMap((m) => m.load_average);
  const cores = report.machine.cores;
  if (loads.length && Math.max(...loads) > cores) {
    notes.push(
      `the machine was shared: 1-minute load average up to ${Math.max(...loads).toFixed(1)} on ${cores} cores during the run (times include waiting for cores)`,
    );
  }
  notes.push(
    `load average (1 min) ${report.load_average.start.toFixed(2)} at the start, ${report.load_average.end?.toFixed(2) ?? '?'} at the end, on ${cores} cores`,
  );
  if (report.leftover_cached_rdds) notes.push(`${report.leftover_cached_rdds} cached RDD(s) of this run are still on the server`);
  return notes;
}
