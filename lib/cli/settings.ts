import * as path from 'node:path';
import { readPropertiesFile, splitSettings } from '../runtime/conf';
import { CONF_DIR } from '../runtime/paths';
import { UsageError } from './job';
import { errorMessage } from '../util/errors';

export const DEFAULT_PROPERTIES_FILE = path.join(CONF_DIR, 'spark-defaults.conf');

/** The spark-submit style options that turn into Spark settings. */
export interface SettingsOptions {
  /** `--conf k=v`, in the order given (a later one wins). */
  conf?: string[];
  /** `--properties-file`: layered over the defaults file. */
  propertiesFile?: string;
  master?: string;
  driverMemory?: string;
  name?: string;
}

export interface ResolvedSettings {
  /** Everything, merged: defaults file, then --properties-file, then --conf, then the explicit flags. */
  all: Record<string, string>;
  /** Settings that only apply when a server JVM starts (master, memory, UI, ...). */
  static: Record<string, string>;
  /** Settings set on the job's session (spark.conf.set). */
  session: Record<string, string>;
  /** Static settings the user asked for on this command line (not from the defaults file). */
  explicitStatic: Record<string, string>;
}

/** `--conf key=value` → [key, value]. A missing `=` or an empty key is a usage error naming the argument. */
export function parseConfArg(arg: string): [string, string] {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new UsageError(`--conf expects key=value, got "${arg}" (no "=")`);
  const key = arg.slice(0, eq).trim();
  if (!key) throw new UsageError(`--conf expects key=value, got "${arg}" (empty key)`);
  return [key, arg.slice(eq + 1)];
}

/**
 * Merges the settings as spark-submit does: the defaults file, then `--properties-file`, then each `--conf`,
 * then the dedicated flags (`--master`, `--driver-memory`, `--name` win over the same key in `--conf`).
 */
export function resolveSettings(opts: SettingsOptions, defaultsFile = DEFAULT_PROPERTIES_FILE): ResolvedSettings {
  const explicit: Record<string, string> = {};
  for (const c of opts.conf ?? []) {
    const [k, v] = parseConfArg(c);
    explicit[k] = v;
  }
  if (opts.master !== undefined) explicit['spark.master'] = opts.master;
  if (opts.driverMemory !== undefined) explicit['spark.driver.memory'] = opts.driverMemory;
  if (opts.name !== undefined) explicit['spark.app.name'] = opts.name;

  const fromFiles: Record<string, string> = { ...readProperties(defaultsFile) };
  if (opts.propertiesFile && path.resolve(opts.propertiesFile) !== path.resolve(defaultsFile)) {
    Object.assign(fromFiles, readProperties(opts.propertiesFile));
  }
  const propertiesFileStatic =
    opts.propertiesFile && path.resolve(opts.propertiesFile) !== path.resolve(defaultsFile)
      ? splitSettings(readProperties(opts.propertiesFile)).static
      : {};
  const all = { ...fromFiles, ...explicit };
  const { static: st, session } = splitSettings(all);
  return { all, static: st, session, explicitStatic: { ...propertiesFileStatic, ...splitSettings(explicit).static } };
}

function readProperties(file: string): Record<string, string> {
  try {
    return readPropertiesFile(file);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

/** A static setting a job asked for that differs from what the running server was started with. */
export interface StaticMismatch {
  key: string;
  wanted: string;
  /** What the running server has; undefined when it was started without the setting. */
  running: string | undefined;
}

/** Keys that describe where the server listens or who it is, not how it computes: never compared. */
const NOT_COMPARED = new Set(['spark.app.name', 'spark.app.id', 'spark.connect.grpc.binding.address']);

/** The wanted static settings the running server does not have. */
export function staticMismatches(wanted: Record<string, string>, running: Record<string, string>): StaticMismatch[] {
  const out: StaticMismatch[] = [];
  for (const [key, value] of Object.entries(wanted)) {
    if (NOT_COMPARED.has(key)) continue;
    if (running[key] !== value) out.push({ key, wanted: value, running: running[key] });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** The message for people when static settings cannot apply to the server a job runs on. */
export function describeMismatches(mismatches: StaticMismatch[], server: string, remedy: string): string {
  const lines = mismatches.map((m) => `  ${m.key}=${m.wanted} (the server has ${m.running === undefined ? 'it unset' : m.running})`);
  return [
    `static Spark settings do not apply: ${server} was started with different ones, and they can only change when a server starts:`,
    ...lines,
    remedy,
  ].join('\n');
}
