import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobDefinition } from './job';
import { UsageError } from './job';

/** A job whose file loaded but does not follow the job contract (no default export with `run`, ...). */
export class InvalidJobError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      `${file} is not a spark-ts job: ${detail}. A job file ends with \`export default defineJob({ name, description, options, run(spark, args, ctx) { ... } })\``,
    );
    this.name = 'InvalidJobError';
  }
}

/** True when a `submit` argument names a file rather than a registered job. */
export function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.includes(path.sep) || /\.(ts|js|cjs|mjs)$/.test(ref);
}

/**
 * Loads a job module (TypeScript files go through ts-node, which bin/spark-ts registers) and checks it
 * against the contract: a default export (or the module itself) with a `run` function.
 */
export function loadJobFile(file: string): JobDefinition {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new UsageError(`job file not found: ${file}`);
  if (fs.statSync(abs).isDirectory()) throw new UsageError(`job file is a directory: ${file}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(abs) as { default?: unknown } & Record<string, unknown>;
  const candidate = mod && typeof mod === 'object' && 'default' in mod && mod.default !== undefined ? mod.default : mod;
  return checkJob(candidate, file);
}

/** Checks a loaded value against the job contract; the error says what is missing. */
export function checkJob(value: unknown, file: string): JobDefinition {
  if (!value || typeof value !== 'object') throw new InvalidJobError(file, 'it has no default export');
  const job = value as Partial<JobDefinition>;
  if (typeof job.run !== 'function') throw new InvalidJobError(file, 'it exports no run(spark, args, ctx) function');
  if (job.options !== undefined && (typeof job.options !== 'object' || job.options === null)) {
    throw new InvalidJobError(file, '`options` must be an object of yargs options');
  }
  for (const need of job.needs ?? []) {
    if (need !== 'spark' && need !== 'kafka') throw new InvalidJobError(file, `unknown need "${String(need)}" (known: spark, kafka)`);
  }
  return {
    ...job,
    name: typeof job.name === 'string' && job.name ? job.name : path.basename(file).replace(/\.[cm]?[jt]s$/, ''),
    description: typeof job.description === 'string' ? job.description : '',
    options: job.options ?? {},
    run: job.run,
  } as JobDefinition;
}
