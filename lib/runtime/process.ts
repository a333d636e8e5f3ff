import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { sleep } from '../connect/retry';
import { writeJson } from '../util/json';

/** Starts a long-running server detached from this process, its output appended to `logFile`. */
export function spawnDaemon(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string }): number {
  const fd = fs.openSync(opts.logFile, 'a');
  try {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', fd, fd] });
    // A failed spawn (ENOENT, EAGAIN, a missing cwd) also emits 'error': without a listener Node would crash on
    // it a tick later, after the clear error below, and the caller's cleanup would never finish.
    child.once('error', () => undefined);
    if (child.pid === undefined) throw new RuntimeError(`could not start ${command}${opts.cwd ? ` in ${opts.cwd}` : ''}`);
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

/** True when `pid` is alive and its command line contains `marker` (so a reused pid is not mistaken for ours). */
export function isRunning(pid: number | undefined, marker?: string): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie (exited, not yet reaped) still answers signal 0: it is not running.
    if (fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] === 'Z') return false;
    return marker ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker) : true;
  } catch {
    return true; // no /proc (not Linux): trust the signal check
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
export async function stopProcess(pid: number, marker: string, graceMs = 20_000): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isRunning(pid, marker)) return 'not-running';
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid, marker)) return 'stopped';
    await sleep(100);
  }
  signal(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isRunning(pid, marker); i++) await sleep(100);
  return 'killed';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    // The daemon leads its own process group: signal the group so helpers it forked go too.
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** A server process being started: its pid, the marker of its command line, its log, its name in messages. */
export interface Daemon {
  pid: number;
  marker: string;
  log: string;
  /** As a sentence's subject: "the Kafka broker", "PostgreSQL". */
  name: string;
}

/**
 * Polls `ready()` every `intervalMs` until it answers true; fails with the last lines of the log when the
 * process exits first or `timeoutMs` runs out.
 */
export async function waitUntilReady(d: Daemon, ready: () => Promise<boolean>, timeoutMs: number, intervalMs = 300): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(d.pid, d.marker)) throw new RuntimeError(`${d.name} exited during start; last lines of ${d.log}:\n${tail(d.log)}`);
    if (await ready()) return;
    await sleep(intervalMs);
  }
  throw new RuntimeError(`${d.name} was not ready after ${timeoutMs / 1000}s; last lines of ${d.log}:\n${tail(d.log)}`);
}

/**
 * Records a started server: writes its state file (mode 0600: it may hold a token), then `untilReady()`; when that
 * fails, stops the process (`stop`, by default SIGTERM then SIGKILL after 5 s) and removes the state file.
 */
export async function recordStart(
  stateFile: string,
  state: object,
  d: Pick<Daemon, 'pid' | 'marker'>,
  untilReady: () => Promise<void>,
  stop?: () => Promise<unknown>,
): Promise<void> {
  writeJson(stateFile, state, { mode: 0o600 });
  try {
    await untilReady();
  } catch (err) {
    await (stop ? stop() : stopProcess(d.pid, d.marker, 5000));
    fs.rmSync(stateFile, { force: true });
    throw err;
  }
}

/**
 * Runs `fn` (a server's start) holding `<stateFile>.lock`, created exclusively with our pid in it: two commands
 * starting the same server at once take turns, so the second finds the first one's server and reuses it,
 * instead of starting a rival that fails to bind and, cleaning up, removes the running one's state file. A
 * lock whose holder is gone is taken over.
 */
export async function withStartLock<T>(stateFile: string, fn: () => Promise<T>, waitMs = 300_000): Promise<T> {
  const lock = `${stateFile}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(fs.readFileSync(lock, 'utf8'));
    } catch {
      continue; // released meanwhile: try again at once
    }
    // An empty file is a lock being written this instant; a pid that is gone left a stale lock.
    if (holder > 0 && !isRunning(holder)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new RuntimeError(`another command (pid ${holder}) has been starting this server for ${waitMs / 1000} s (lock ${lock})`);
    await sleep(holder > 0 ? 200 : 20);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** True when nothing listens on host:port. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.once('listening', () => server.close(() => resolve(true)));
    server.listen(port, host);
  });
}

/** The last `lines` lines of a file, for error messages. */
export function tail(file: string, lines = 30): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '(no log)';
  }
}

/** A memory figure of a process from /proc/<pid>/status (VmRSS: resident now; VmHWM: peak), in bytes. */
export function procMemoryBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in bytes, from /proc, or undefined when it cannot be read. */
export function rssBytes(pid: number): number | undefined {
  return procMemoryBytes(pid, 'VmRSS');
}

// The project's one wait helper (abortable), from the client, the lowest layer that needs one.
export { sleep };

export class RuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** Java 17+ on the PATH, or a clear error saying what to install. */
export function checkJava(): void {
  const r = spawnSync('java', ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  if (r.error)
    throw new RuntimeError('java not found on PATH: install a JDK 17 or newer (for example: apt-get install openjdk-17-jdk-headless)');
  const m = (r.stderr ?? '').match(/java\.specification\.version = (\d+)/);
  const major = m ? Number(m[1]) : 0;
  if (major < 17) throw new RuntimeError(`java ${major || 'of unknown version'} is too old: Spark 4 needs Java 17 or newer`);
}
