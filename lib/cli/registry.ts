/**
 * The job registry: a registered job is a file `jobs/<name>.ts` whose default export is `defineJob({...})`.
 * Files are discovered, so a new job needs no entry here. More directories can be registered with
 * SPARK_TS_JOBS_PATH (colon-separated), for a team's own jobs or for test fixtures.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobDefinition } from './job';
import { loadJobFile } from './load-job';
import { errorMessage } from '../util/errors';

/** The project's jobs/ directory (the registry lives in lib/cli, so jobs import the CLI and never the reverse). */
export const JOBS_DIR = path.resolve(__dirname, '..', '..', 'jobs');

export interface RegisteredJob {
  /** The name `spark-ts submit <name>` takes: the file name without `.ts`. */
  name: string;
  /** Absolute path of the module. */
  module: string;
}

export interface JobListing extends RegisteredJob {
  /** The job's one-line description, or why the file does not load. */
  description: string;
  ok: boolean;
}

/** The directories searched, in order: jobs/ first, then SPARK_TS_JOBS_PATH. */
export function jobDirectories(): string[] {
  const extra = (process.env.SPARK_TS_JOBS_PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((d) => path.resolve(d));
  return [JOBS_DIR, ...extra];
}

/** Every registered job, by name (a name found in two directories: the first wins). */
export function registeredJobs(): RegisteredJob[] {
  const byName = new Map<string, RegisteredJob>();
  for (const dir of jobDirectories()) {
    let entries: string[];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const file of entries.sort()) {
      if (!/\.ts$/.test(file) || file.endsWith('.d.ts') || file === 'index.ts' || file.startsWith('_')) continue;
      const name = file.replace(/\.ts$/, '');
      if (!byName.has(name)) byName.set(name, { name, module: path.join(dir, file) });
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The registered job of that name, or undefined. */
export function findJob(name: string): RegisteredJob | undefined {
  return registeredJobs().find((j) => j.name === name);
}

/** Loads a registered job's module (and checks it against the job contract). */
export function loadRegisteredJob(job: RegisteredJob): JobDefinition {
  return loadJobFile(job.module);
}

/** Every registered job with its description; a file that does not load is listed with the reason. */
export function listJobs(): JobListing[] {
  return registeredJobs().map((j) => {
    try {
      const def = loadJobFile(j.module);
      return { ...j, description: firstLine(def.description) || '(no description)', ok: true };
    } catch (err) {
      return { ...j, description: `(does not load: ${firstLine(errorMessage(err))})`, ok: false };
    }
  });
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}
