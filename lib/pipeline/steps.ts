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
