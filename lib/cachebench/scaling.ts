import { renderTable, seriesChartSpec, type TopLevelSpec } from '../report';
import type { CacheBenchReport } from './run';
import { fmtBytes } from './run';

/**
 * Scaling: several cache-bench reports of the same mix at different sizes, side by side. Where a persisted
 * level stops fitting in storage memory, and what Spark then did (recompute the missing partitions, or
 * spill them to disk), comes from each report's REST figures (cached partitions, memory and disk bytes).
 */
export interface ScalingRow {
  rows: number;
  rows_held: number;
  mode: string;
  median_ms: number | null;
  speedup: number | null;
  memory_bytes: number | null;
  disk_bytes: number | null;
  off_heap_bytes: number | null;
  cached_partitions: number | null;
  total_partitions: number | null;
  fits: boolean | null;
  overflow: string | null;
  storage_memory_on_heap_bytes: number | null;
  storage_memory_off_heap_bytes: number | null;
  load_average: { start: number; end: number | null };
  /** The 1-minute load average after each of this mode's iterations, lowest and highest: what its times competed with. */
  mode_load: { min: number; max: number } | null;
}

export function scalingRows(reports: readonly CacheBenchReport[]): ScalingRow[] {
  return [...reports]
    .sort((a, b) => a.rows - b.rows)
    .flatMap((r) =>
      r.modes
        .filter((m) => !m.skipped && !m.error)
        .map((m) => ({
          rows: r.rows,
          rows_held: r.workload.ledger.rows_held,
          mode: m.mode,
          median_ms: m.median_ms ?? m.first_ms,
          speedup: m.speedup,
          memory_bytes: m.memory_bytes,
          disk_bytes: m.disk_bytes,
          off_heap_bytes: m.off_heap_bytes,
          cached_partitions: m.cached_partitions,
          total_partitions: m.total_partitions,
          fits: m.fits,
          overflow: m.overflow,
          storage_memory_on_heap_bytes: r.machine.storage_memory_on_heap_bytes,
          storage_memory_off_heap_bytes: r.machine.storage_memory_off_heap_bytes,
          load_average: r.load_average,
          mode_load: m.load_average.length ? { min: Math.min(...m.load_average), max: Math.max(...m.load_average) } : null,
        })),
    );
}

/** Steady-state mix time by size, one line per mode. */
export function scalingTimeChartSpec(rows: readonly ScalingRow[]): TopLevelSpec {
  return seriesChartSpec(
    rows.map((r) => ({ series: r.mode, x: r.rows / 1e6, y: r.median_ms })),
    {
      title: 'cache-bench scaling: steady-state query-mix time by size',
      xTitle: 'generated rows (millions)',
      yTitle: 'query mix median (ms)',
      mark: 'line',
      logY: true,
    },
  );
}

/** Bytes each persisted level held in memory by size, against the storage memory the server has. */
export function scalingMemoryChartSpec(rows: readonly ScalingRow[]): TopLevelSpec {
  const persisted = rows.filter((r) => r.cached_partitions !== null);
  const mib = (b: number | null) => (b === null ? null : Math.round((b / 2 ** 20) * 10) / 10);
  const sizes = [...new Set(persisted.map((r) => r.rows))];
  const capacity = sizes.flatMap((rowsN) => {
    const r = persisted.find((p) => p.rows === rowsN);
    return [
      { series: 'storage memory (on-heap)', x: rowsN / 1e6, y: mib(r?.storage_memory_on_heap_bytes ?? null) },
      { series: 'storage memory (off-heap)', x: rowsN / 1e6, y: mib(r?.storage_memory_off_heap_bytes ?? null) },
    ];
  });
  const points = persisted.flatMap((r) => [
    // The REST API's memory figure is on-heap plus off-heap: OFF_HEAP's is its off-heap bytes.
    { series: `${r.mode} in memory`, x: r.rows / 1e6, y: mib(r.memory_bytes) },
    ...((r.disk_bytes ?? 0) > 0 ? [{ series: `${r.mode} on disk`, x: r.rows / 1e6, y: mib(r.disk_bytes) }] : []),
  ]);
  return seriesChartSpec([...capacity, ...points], {
    title: 'cache-bench scaling: bytes held per level against storage memory',
    xTitle: 'generated rows (millions)',
    yTitle: 'MiB',
    mark: 'line',
  });
}

const what = (r: ScalingRow): string => {
  if (r.cached_partitions === null) return r.mode === 'none' ? 'recomputed every query' : 'files re-read every query';
  const part = `${r.cached_partitions}/${r.total_partitions} partitions cached`;
  if (r.overflow === 'recomputed') return `${part}: the rest recomputed from the CSV on every query`;
  if (r.overflow === 'spilled to disk') return `${part}, ${fmtBytes(r.disk_bytes)} of it spilled to disk`;
  return `${part}, fits`;
};

export function renderScalingTable(rows: readonly ScalingRow[], plain?: boolean): string {
  return renderTable(
    ['rows', 'held', 'mode', 'median ms', 'speedup', 'memory', 'disk', 'what Spark did', 'load (mode)'],
    rows.map((r) => [
      r.rows.toLocaleString('en-US'),
      r.rows_held.toLocaleString('en-US'),
      r.mode,
      r.median_ms === null ? null : Math.round(r.median_ms).toLocaleString('en-US'),
      r.speedup === null ? null : `${r.speedup.toFixed(2)}×`,
      r.memory_bytes === null ? null : fmtBytes(r.memory_bytes),
      r.disk_bytes === null ? null : fmtBytes(r.disk_bytes),
      what(r),
      r.mode_load
        ? `${r.mode_load.min.toFixed(1)}–${r.mode_load.max.toFixed(1)}`
        : `${r.load_average.start.toFixed(1)}–${r.load_average.end?.toFixed(1) ?? '?'} (run)`,
    ]),
    { alignRight: [0, 1, 3, 4, 5, 6], plain },
  );
}
