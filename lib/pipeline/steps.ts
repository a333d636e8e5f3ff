import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { tail } from '../runtime/process';

/** One step of `make run`: a `spark-ts submit` call whose output goes to its own log. */
export interface Step {
  name: string;
  /** Arguments after `spark-ts` (e.g. ['submit', 'preprocess', '--input', …]). */
  args: string[];
  /** One line saying what the step produced, read from its outputs after it succeeded. */
  summarize(): string;
  /** Key figures for summary.md, read from its outputs. */
  figures?(): Record<string, string | number>;
  /** Files the summary links to. */
  outputs?: string[];
  /**
   * Runs beside the step after it instead of before it (the producer feeding the stream job): the run goes on
   * once both have ended, and a failure of either stops the other.
   */
  alongsideNext?: boolean;
}

export interface StepResult {
  name: string;
  seconds: number;
  line: string;
  log: string;
  figures: Record<string, string | number>;
  outputs: string[];
}

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly log: string,
    readonly code: number | null,
  ) {
    super(`step "${step}" failed (exit ${code}); last lines of ${log}:\n${tail(log, 25)}`);
  }
}

/** Runs a step as a child process (argument array, no shell), logging its output, and summarizes it. */
export async function runStep(
  step: Step,
  cli: string,
  logDir: string,
  env: NodeJS.ProcessEnv = process.env,
  signal?: AbortSignal,
): Promise<StepResult> {
  fs.mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `${step.name}.log`);
  const fd = fs.openSync(log, 'w');
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    // `signal` aborted: the step is sent SIGTERM, and it ends as the job's own interrupt handling ends it.
    const child = spawn(cli, step.args, { stdio: ['ignore', fd, fd], env, signal, killSignal: 'SIGTERM' });
    child.on('exit', (c, sig) => resolve(sig ? 128 : c));
    child.on('error', (e) => {
      if (e.name !== 'AbortError') resolve(127); // not started; an abort is answered by its 'exit'
    });
  });
  fs.closeSync(fd);
  if (code !== 0) throw new StepFailed(step.name, log, code);
  const seconds = (performance.now() - t0) / 1000;
  return { name: step.name, seconds, line: step.summarize(), log, figures: step.figures?.() ?? {}, outputs: step.outputs ?? [] };
}

/** Steps in run order, grouped: a step marked alongsideNext runs together with the one after it. */
export function stepGroups(steps: readonly Step[]): Step[][] {
  const groups: Step[][] = [];
  for (const step of steps) {
    const last = groups.at(-1);
    if (last?.at(-1)?.alongsideNext) last.push(step);
    else groups.push([step]);
  }
  return groups;
}

/**
 * Runs a group of steps together, reporting each as it ends. The first to fail stops the others (SIGTERM:
 * each ends as its own interrupt handling ends it), and so does `signal`. Results come in the group's order.
 */
export async function runStepGroup(
  group: readonly Step[],
  cli: string,
  logDir: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  report: (index: number, outcome: StepResult | StepFailed) => void,
): Promise<{ results: StepResult[]; failure?: StepFailed }> {
  const stopGroup = new AbortController();
  const stop = AbortSignal.any([signal, stopGroup.signal]);
  let failure: StepFailed | undefined;
  const outcomes = await Promise.allSettled(
    group.map((step, k) =>
      runStep(step, cli, logDir, env, stop).then(
        (r) => {
          report(k, r);
          return r;
        },
        (err: unknown) => {
          if (err instanceof StepFailed) {
            report(k, err);
            failure ??= err;
          }
          stopGroup.abort();
          throw err;
        },
      ),
    ),
  );
  const unexpected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && !(o.reason instanceof StepFailed));
  if (unexpected) throw unexpected.reason;
  return { results: outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])), failure };
}
