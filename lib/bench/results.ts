import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeCsv, writeJson } from '../report';
import type { MachineInfo } from '../measure/machine';
import { spread } from '../measure/stats';

/**
 * results.json, schema version 1 (stable: two runs can be compared figure by figure, by `id`).
 *
 * {
 *   "schema": "spark-ts-bench/1",
 *   "created_at": ISO-8601, "quick": boolean, "repetitions": integer >= 3,
 *   "command": text (optional: the command line that ran the suite),
 *   "machine": { cores, memory_bytes, cpu_model, os, java, node, spark, kafka },
 *   "figures": [ { "id": "group.name", "group": "latency"|"throughput"|"memory"|"model",
 *                  "title": text, "unit": "ms"|"msg/s"|"rows/s"|"events/s"|"MB/s"|"bytes"|"bytes/row"|"ratio",
 *                  "better": "lower"|"higher", "workload": text,
 *                  "min": number, "median": number, "max": number, "n": integer, "samples": number[] } ]
 * }
 */
export const RESULTS_SCHEMA = 'spark-ts-bench/1';

export type FigureGroup = 'latency' | 'throughput' | 'memory' | 'model';

export interface Figure {
  id: string;
  group: FigureGroup;
  title: string;
  unit: string;
  better: 'lower' | 'higher';
  workload: string;
  min: number;
  median: number;
  max: number;
  n: number;
  samples: number[];
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  created_at: string;
  quick: boolean;
  repetitions: number;
  /** The command line that ran the suite (absent in runs before it was recorded). */
  command?: string;
  machine: MachineInfo;
  figures: Figure[];
}

export function figure(meta: Omit<Figure, 'min' | 'median' | 'max' | 'n' | 'samples'>, samples: number[]): Figure {
  return { ...meta, ...spread(samples), samples };
}

/** Problems with a results document; empty when it is valid and every figure is positive and finite. */
export function validateResults(doc: unknown): string[] {
  const errors: string[] = [];
  const r = doc as Partial<BenchResults>;
  if (r?.schema !== RESULTS_SCHEMA) errors.push(`schema is ${JSON.stringify(r?.schema)}, expected ${RESULTS_SCHEMA}`);
  if (typeof r?.created_at !== 'string' || Number.isNaN(Date.parse(r.created_at))) errors.push('created_at is not a timestamp');
  if (typeof r?.quick !== 'boolean') errors.push('quick is not a boolean');
  if (!Number.isInteger(r?.repetitions) || (r?.repetitions ?? 0) < 3) errors.push('repetitions is not an integer >= 3');
  for (const k of ['cores', 'memory_bytes'] as const) if (!(Number(r?.machine?.[k]) > 0)) errors.push(`machine.${k} missing`);
  for (const k of ['java', 'node', 'spark', 'kafka'] as const) if (typeof r?.machine?.[k] !== 'string') errors.push(`machine.${k} missing`);
  if (!Array.isArray(r?.figures) || r.figures.length === 0) errors.push('figures is empty');
  const ids = new Set<string>();
  for (const f of r?.figures ?? []) {
    if (ids.has(f.id)) errors.push(`duplicate figure id ${f.id}`);
    ids.add(f.id);
    if (!['latency', 'throughput', 'memory', 'model'].includes(f.group)) errors.push(`${f.id}: bad group ${f.group}`);
    if (!['lower', 'higher'].includes(f.better)) errors.push(`${f.id}: bad better ${f.better}`);
    for (const k of ['min', 'median', 'max'] as const) {
      if (!(Number.isFinite(f[k]) && f[k] > 0)) errors.push(`${f.id}: ${k} = ${f[k]} is not positive and finite`);
    }
    if (!(f.min <= f.median && f.median <= f.max)) errors.push(`${f.id}: min <= median <= max does not hold`);
    if (f.n !== f.samples?.length) errors.push(`${f.id}: n does not match samples`);
  }
  return errors;
}

export function writeResults(dir: string, results: BenchResults): void {
  fs.mkdirSync(dir, { recursive: true });
  writeJson(path.join(dir, 'results.json'), results);
  const rows = results.figures.map((f) => ({
    id: f.id,
    group: f.group,
    title: f.title,
    unit: f.unit,
    better: f.better,
    workload: f.workload,
    min: f.min,
    median: f.median,
    max: f.max,
    n: f.n,
  }));
  writeCsv(path.join(dir, 'results.csv'), rows);
}

export function formatNumber(v: number, unit: string): string {
  if (unit === 'bytes') return `${(v / 2 ** 20).toFixed(1)} MiB`;
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toPrecision(3);
}

/** One Markdown table per group (latency, throughput, memory, model): median with min–max, unit and workload. */
export function figureTables(results: BenchResults, heading = '##'): string[] {
  const lines: string[] = [];
  for (const group of ['latency', 'throughput', 'memory', 'model'] as const) {
    const figs = results.figures.filter((f) => f.group === group);
    if (!figs.length) continue;
    lines.push(
      `${heading} ${group[0].toUpperCase()}${group.slice(1)}`,
      '',
      '| figure | median | min – max | unit | workload |',
      '| --- | ---: | ---: | --- | --- |',
    );
    for (const f of figs) {
      lines.push(
        `| ${f.title} | ${formatNumber(f.median, f.unit)} | ${formatNumber(f.min, f.unit)} – ${formatNumber(f.max, f.unit)} | ${f.unit === 'bytes' ? 'MiB' : f.unit} | ${f.workload} |`,
      );
    }
    lines.push('');
  }
  return lines;
}

/** The machine a run measured on, in one line: cores, memory, CPU, and the versions. */
export function machineLine(m: MachineInfo): string {
  return `${m.cores} cores, ${(m.memory_bytes / 2 ** 30).toFixed(0)} GiB, ${m.cpu_model} · Java ${m.java} · Node ${m.node} · Spark ${m.spark} · Kafka ${m.kafka}`;
}

/** summary.md: one table per group, median with min–max, workload and machine. */
export function summaryMarkdown(results: BenchResults, charts: string[] = []): string {
  const lines = [
    `# spark-ts benchmark${results.quick ? ' (QUICK)' : ''}`,
    '',
    `${results.created_at} · ${machineLine(results.machine)} · ${results.repetitions} repetitions per figure`,
    '',
    ...figureTables(results),
  ];
  for (const c of charts) lines.push(`![${c}](${c})`, '');
  return lines.join('\n');
}
