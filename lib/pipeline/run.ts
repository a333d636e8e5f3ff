import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../runtime/paths';
import { describeKaggleCsvCandidates, findKaggleCsv, KAGGLE_FILE } from '../preprocess/input';
import { readJson } from '../util/json';
import { startSpark, stopSpark } from '../runtime/spark-server';
import { startKafka, stopKafka } from '../runtime/kafka-broker';
import { runStepGroup, stepGroups, StepFailed, type Step, type StepResult } from './steps';
import type { StreamMetricsReport } from '../stream/run';

export interface PipelineOptions {
  /** The input CSV; when absent and the default file is missing, synthetic data is generated. */
  input?: string;
  /** Rows of synthetic data when the real file is absent. */
  syntheticRows: number;
  streamEvents: number;
  streamRate: number;
  /** The live view's cap: it reads this run's live and alert topics to their end, at most this long. */
  watchSeconds: number;
  cdcUpdates: number;
  cacheRows: number;
  cacheIterations: number;
  /** Where the run writes its summary, logs and per-run outputs (default reports/run). */
  reportDir: string;
  /** The preprocess output directory (default data/processed). */
  processedDir: string;
  /** The CDC consumer's state directory (default models). */
  stateDir: string;
  /** Generate synthetic data even when the real file is present. */
  synthetic: boolean;
  /** Run only the steps of these names, e.g. the streaming ones (`stream-produce,stream,stream-watch`). */
  only?: string[];
  out: (line: string) => void;
}

function lastLine(log: string): string {
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  // eslint-disable-next-line no-control-regex -- strips the terminal's colour codes (ESC [ ... letter)
  return (lines.at(-1) ?? '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim();
}

const num = (v: unknown) => (typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 3 }) : String(v ?? '?'));

/** The steps of `make run`, in order, as data. */
export function pipelineSteps(opts: PipelineOptions, runId: string): { steps: Step[]; notes: string[] } {
  const notes: string[] = [];
  const processed = opts.processedDir;
  const steps: Step[] = [];
  // The Kaggle file when it is found (or --input), else synthetic data of the same schema and defects.
  const found = opts.input ?? (opts.synthetic ? undefined : findKaggleCsv());
  const input = found ?? path.join(opts.reportDir, 'synthetic_marketing_campaign.csv');
  if (found && !opts.input) notes.push(`input: ${path.relative(ROOT, found)}`);
  if (!found) {
    const why = opts.synthetic ? 'synthetic data asked for' : `no ${KAGGLE_FILE} at ${describeKaggleCsvCandidates()}`;
    notes.push(
      `${why}: using generated data (${opts.syntheticRows.toLocaleString('en-US')} rows, seed 42) at ${path.relative(ROOT, input)}`,
    );
    steps.push({
      name: 'generate-data',
      args: ['submit', 'generate-data', '--rows', String(opts.syntheticRows), '--seed', '42', '--output', input],
      summarize: () => `wrote ${opts.syntheticRows.toLocaleString('en-US')} synthetic rows to ${path.relative(ROOT, input)}`,
      outputs: [input],
    });
  }
  const quality = path.join(processed, 'quality-report.json');
  steps.push({
    name: 'preprocess',
    args: ['submit', 'preprocess', '--input', input, '--output', processed],
    summarize: () => {
      const q = readJson<Record<string, unknown>>(quality) ?? {};
      return `read ${num(q.rows_read)} rows: wrote ${num(q.rows_written)}, quarantined ${num(q.rows_quarantined)}, removed ${num(q.duplicates_removed)} duplicates and ${num(q.duplicate_ids_removed)} duplicate IDs`;
    },
    figures: () => {
      const q = readJson<Record<string, unknown>>(quality) ?? {};
      return {
        rows_read: num(q.rows_read),
        rows_written: num(q.rows_written),
        rows_quarantined: num(q.rows_quarantined),
        duplicates_removed: num(q.duplicates_removed),
      };
    },
    outputs: [quality, path.join(processed, 'customers.csv'), path.join(processed, 'scaler.json')],
  });

  // Streaming: a per-run source topic and fresh output/checkpoint, so the run's figures are its own.
  const streamTopic = `sensor_data.run-${runId}`;
  const streamTopics = [
    '--dlq-topic',
    `sensor_data_dlq.run-${runId}`,
    '--aggregates-topic',
    `sensor_aggregates.run-${runId}`,
    '--alerts-topic',
    `sensor_alerts.run-${runId}`,
    '--live-topic',
    `sensor_aggregates_live.run-${runId}`,
  ];
  const streamOut = path.join(opts.reportDir, 'stream');
  const streamMetrics = path.join(opts.reportDir, 'stream-metrics.json');
  steps.push({
    name: 'stream-produce',
    args: [
      'submit',
      'stream-produce',
      '--topic',
      streamTopic,
      '--count',
      String(opts.streamEvents),
      '--rate',
      String(opts.streamRate),
      '--seed',
      '42',
    ],
    summarize: () => lastLine(path.join(opts.reportDir, 'logs', 'stream-produce.log')),
    // Real time: the readings are produced while the job runs, so its live updates and latencies are those
    // of a live stream, not of a backlog read after the fact.
    alongsideNext: true,
  });
  steps.push({
    name: 'stream',
    args: [
      'submit',
      'stream',
      '--topic',
      streamTopic,
      '--starting-offsets',
      'earliest',
      '--trigger',
      'processing-time=1s',
      // It ends once it has read what the producer beside it sends and closed the windows the watermark
      // passed; the duration only caps a run that could not (the summary's counts then show the shortfall).
      '--until-records',
      String(opts.streamEvents),
      '--duration',
      '300s',
      '--output',
      streamOut,
      '--checkpoint',
      path.join(opts.reportDir, 'checkpoints', 'stream'),
      '--metrics',
      streamMetrics,
      ...streamTopics,
    ],
    summarize: () => lastLine(path.join(opts.reportDir, 'logs', 'stream.log')),
    figures: () => streamFigures(readJson<StreamMetricsReport>(streamMetrics)),
    outputs: [streamMetrics, path.join(streamOut, 'aggregates_10s')],
  });
  steps.push({
    name: 'stream-watch',
    // The live view over this run's aggregates and alerts, from their start to their end (the job has ended).
    args: [
      'submit',
      'stream-watch',
      '--duration',
      `${opts.watchSeconds}s`,
      '--from-beginning',
      '--until-end',
      '--live-topic',
      streamTopics[7],
      '--alerts-topic',
      streamTopics[5],
    ],
    summarize: () => lastLine(path.join(opts.reportDir, 'logs', 'stream-watch.log')),
  });

  // CDC: a per-run topic and a fresh state store, then a batch refit must equal the incremental model.
  const cdcTopic = `customer_updates.run-${runId}`;
  const stateDir = opts.stateDir;
  const cdcReport = path.join(opts.reportDir, 'cdc-model.json');
  steps.push({
    name: 'cdc-produce',
    args: [
      'submit',
      'cdc-produce',
      '--input',
      path.join(processed, 'customers'),
      '--topic',
      cdcTopic,
      '--updates',
      String(opts.cdcUpdates),
      '--seed',
      '42',
    ],
    summarize: () => lastLine(path.join(opts.reportDir, 'logs', 'cdc-produce.log')),
  });
  steps.push({
    name: 'cdc-consume',
    // The producer has finished: the consumer stops at the topic's end (idle 5 s only if it could not get there).
    args: ['submit', 'cdc-consume', '--topic', cdcTopic, '--state-dir', stateDir, '--reset', '--until-end', '--until-idle', '5'],
    summarize: () => {
      const m = readJson<Record<string, unknown>>(path.join(stateDir, 'model.json')) ?? {};
      return `model over n=${num(m.n)} customers: ${num(m.events_applied)} events applied, ${num(m.events_skipped)} skipped`;
    },
    outputs: [path.join(stateDir, 'model.json')],
  });
  steps.push({
    name: 'cdc-verify',
    args: ['submit', 'cdc-verify', '--state-dir', stateDir, '--report', cdcReport],
    summarize: () => {
      const r = readJson<Record<string, unknown>>(cdcReport) as
        | {
            verification?: { max_rel_diff?: number; ok?: boolean };
            ours?: { holdout?: Record<string, number> };
            spark_ml?: { holdout?: Record<string, number> } | null;
          }
        | undefined;
      const auc = (m?: Record<string, number>) => (typeof m?.roc_auc === 'number' ? m.roc_auc.toFixed(3) : '-');
      return `batch refit equals the incremental model (largest relative difference ${r?.verification?.max_rel_diff?.toExponential(1) ?? '?'}); hold-out ROC AUC ${auc(r?.ours?.holdout)} (ours) vs ${auc(r?.spark_ml?.holdout ?? undefined)} (Spark ML LogisticRegression)`;
    },
    figures: () => flattenNumbers(readJson<Record<string, unknown>>(cdcReport) ?? {}, ['verification', 'ours', 'spark_ml']),
    outputs: [cdcReport],
  });

  const cacheReport = path.join(opts.reportDir, 'cache-bench.json');
  steps.push({
    name: 'cache-bench',
    // Kept short (<= 30 s on 2 cores): no cache against MEMORY_ONLY only; `make cache-bench` measures every level.
    args: [
      'submit',
      'cache-bench',
      '--rows',
      String(opts.cacheRows),
      '--iterations',
      String(opts.cacheIterations),
      '--modes',
      'none,MEMORY_ONLY',
      '--output',
      cacheReport,
    ],
    summarize: () => {
      const r = readJson<Record<string, unknown>>(cacheReport);
      const modes = (r?.modes as Array<Record<string, unknown>> | undefined) ?? [];
      const mem = modes.find((m) => m.mode === 'MEMORY_ONLY');
      // The report's own verdict (every mode's digest equal AND stable across its iterations), not a recount.
      const equal = r?.digests_equal;
      const digests = equal === true ? 'equal result digests' : equal === false ? 'DIGESTS DIFFER' : 'digests not compared';
      return `${modes.length} modes on ${num((r?.workload as { ledger?: { rows_held?: number } } | undefined)?.ledger?.rows_held)} cleaned customers: MEMORY_ONLY speedup ${num(mem?.speedup)}× (break-even after ${num(mem?.break_even_queries)} queries), ${num(mem?.bytes_per_row)} bytes/row; ${digests}`;
    },
    figures: () => {
      const modes = (readJson<Record<string, unknown>>(cacheReport)?.modes as Array<Record<string, unknown>>) ?? [];
      return Object.fromEntries(modes.map((m) => [`${m.mode} median ms / speedup`, `${num(m.median_ms)} / ${num(m.speedup)}`]));
    },
    outputs: [cacheReport],
  });
  return { steps, notes };
}

/** The stream job's key figures for summary.md: what it read, how fast, and how late its live results came. */
function streamFigures(m: StreamMetricsReport | undefined): Record<string, string | number> {
  if (!m) return {};
  const heavy = m.queries.kafka;
  const l = m.live_latency_ms;
  const pct = (p: { p50: number | null; p95: number | null; count: number }) =>
    p.count ? `${num(p.p50)} / ${num(p.p95)} (${num(p.count)} messages)` : '-';
  return {
    'source records read': heavy?.source_rows ?? 0,
    'heavy query batches': heavy?.batches ?? 0,
    'heavy batch p50 ms': heavy?.batch_duration_ms.p50 ?? '-',
    'live updates: latency p50 / p95 ms, newest window': pct(l.newest_window_updates),
    'closed windows: latency p50 / p95 ms': pct(l.final),
  };
}

/** Numbers of a JSON report, flattened to `a.b.c` keys (only under `prefixes` when given), for summary.md. */
function flattenNumbers(obj: Record<string, unknown>, prefixes: string[], base = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = base ? `${base}.${k}` : k;
    if (!base && prefixes.length && !prefixes.some((p) => k.startsWith(p))) continue;
    if (typeof v === 'number') out[key] = v;
    else if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenNumbers(v as Record<string, unknown>, [], key));
  }
  return out;
}

/** `make run`: servers up (or reused), every step in order, servers down if this run started them, summary.md. */
export async function runPipeline(opts: PipelineOptions): Promise<number> {
  const cli = path.join(ROOT, 'bin', 'spark-ts');
  const runId = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const all = pipelineSteps(opts, runId);
  const unknown = (opts.only ?? []).filter((n) => !all.steps.some((s) => s.name === n));
  if (unknown.length) {
    opts.out(`run: no step named ${unknown.join(', ')}; the steps are ${all.steps.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const steps = opts.only?.length ? all.steps.filter((s) => opts.only?.includes(s.name)) : all.steps;
  const notes = all.notes;
  fs.rmSync(opts.reportDir, { recursive: true, force: true });
  const logDir = path.join(opts.reportDir, 'logs');
  for (const n of notes) opts.out(`run: ${n}`);
  const results: StepResult[] = [];
  const t0 = performance.now();
  let failure: StepFailed | undefined;
  // Ctrl-C reaches the running step too (same process group): the step stops itself and no further step
  // starts. SIGTERM is passed on to the step. Either way the servers this run started are stopped; a second
  // signal exits at once.
  let interrupted: NodeJS.Signals | undefined;
  const stopSteps = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(sig === 'SIGTERM' ? 143 : 130);
    interrupted = sig;
    opts.out(`run: ${sig}: stopping (the current step ends, then the servers this run started; again to exit at once)`);
    if (sig === 'SIGTERM') stopSteps.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let started = { spark: false, kafka: false };
  try {
    const spark = await startSpark();
    started = { ...started, spark: spark.started };
    const kafka = await startKafka();
    started = { ...started, kafka: kafka.started };
    opts.out(
      `run: spark ${spark.started ? 'started' : 'reused'} at ${spark.state.url}; kafka ${kafka.started ? 'started' : 'reused'} at ${kafka.state.bootstrap_servers}`,
    );
    // Steps run in order; a step marked alongsideNext runs together with the one after it.
    let index = 0;
    for (const group of stepGroups(steps)) {
      if (interrupted) break;
      const first = index;
      index += group.length;
      const done = await runStepGroup(group, cli, logDir, process.env, stopSteps.signal, (k, outcome) => {
        const n = `[${first + k + 1}/${steps.length}] ${group[k]!.name}`;
        opts.out(outcome instanceof StepFailed ? `${n} FAILED` : `${n} ok (${outcome.seconds.toFixed(1)} s): ${outcome.line}`);
      });
      results.push(...done.results);
      if (done.failure) {
        failure = done.failure;
        break;
      }
    }
  } finally {
    // Started here, stopped here, on every way out (a failed start of the other server included).
    if (started.spark) await stopSpark();
    if (started.kafka) await stopKafka();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const total = (performance.now() - t0) / 1000;
  fs.mkdirSync(opts.reportDir, { recursive: true });
  fs.writeFileSync(path.join(opts.reportDir, 'summary.md'), summaryMarkdown(opts.reportDir, results, notes, total, failure));
  if (interrupted) {
    opts.out(
      `run: interrupted after ${results.length} of ${steps.length} steps; summary in ${path.relative(ROOT, path.join(opts.reportDir, 'summary.md'))}`,
    );
    return interrupted === 'SIGTERM' ? 143 : 130;
  }
  if (failure) {
    opts.out(failure.message);
    return 1;
  }
  opts.out(
    `run: all ${steps.length} steps passed in ${total.toFixed(0)} s; summary in ${path.relative(ROOT, path.join(opts.reportDir, 'summary.md'))}`,
  );
  return 0;
}

function summaryMarkdown(reportDir: string, results: StepResult[], notes: string[], seconds: number, failure?: StepFailed): string {
  const rel = (p: string) => path.relative(reportDir, p);
  const lines = [
    '# spark-ts: end-to-end run',
    '',
    `${new Date().toISOString()} · ${seconds.toFixed(0)} s in all${failure ? ` · FAILED at step ${failure.step}` : ''}`,
    '',
  ];
  for (const n of notes) lines.push(`> ${n}`, '');
  lines.push('| step | seconds | result | log |', '| --- | ---: | --- | --- |');
  for (const r of results) lines.push(`| ${r.name} | ${r.seconds.toFixed(1)} | ${r.line.replace(/\|/g, '\\|')} | [log](${rel(r.log)}) |`);
  lines.push('');
  for (const r of results) {
    const figs = Object.entries(r.figures);
    if (!figs.length && !r.outputs.length) continue;
    lines.push(`## ${r.name}`, '');
    for (const [k, v] of figs) lines.push(`- ${k}: ${typeof v === 'number' ? num(v) : v}`);
    for (const o of r.outputs) lines.push(`- output: [${path.relative(ROOT, o)}](${rel(o)})`);
    lines.push('');
  }
  if (failure) lines.push('## Failure', '', '```', failure.message, '```', '');
  return lines.join('\n');
}
