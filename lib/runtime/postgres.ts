import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { CACHE_DIR, LOG_DIR, POSTGRES_STATE_FILE, RUN_DIR } from './paths';
import { RuntimeError, isPortFree, isRunning, sleep, spawnDaemon, tail, recordStart, waitUntilReady, withStartLock } from './process';
import { readJson, writeJson } from '../util/json';
import type { StartResult } from './spark-server';

export const DEFAULT_POSTGRES_PORT = Number(process.env.SPARK_TS_POSTGRES_PORT ?? 5432);
export const POSTGRES_DATABASE = 'spark_ts';
export const POSTGRES_USER = 'spark_ts';
/** The postmaster's command line holds its data directory: the marker that tells our server from a reused pid. */
const DATA_DIR = path.join(RUN_DIR, 'postgres');
const CREDENTIALS_FILE = path.join(RUN_DIR, 'postgres-credentials.json');

/** What `.run/postgres.json` holds (mode 0600: the url carries the password). */
export interface PostgresState {
  /** postgresql://user:password@127.0.0.1:<port>/spark_ts */
  url: string;
  pid: number;
  port: number;
  user: string;
  database: string;
  data_dir: string;
  /** The PostgreSQL bin directory used (the Maven Central build, or SPARK_TS_POSTGRES_BIN). */
  bin_dir: string;
  version: string;
  /** The OS user the server runs as (PostgreSQL refuses to run as root). */
  os_user: string;
  started_at: string;
  log: string;
}

interface Credentials {
  user: string;
  password: string;
}

export function readPostgresState(): PostgresState | undefined {
  return readJson<PostgresState>(POSTGRES_STATE_FILE);
}

/**
 * The bin directory: SPARK_TS_POSTGRES_BIN (a system PostgreSQL, e.g. /usr/lib/postgresql/15/bin) when
 * set, else the build `make setup` unpacked from Maven Central into .cache/postgres/<version>/bin.
 */
export function postgresBinDir(): string {
  const configured = process.env.SPARK_TS_POSTGRES_BIN;
  if (configured) {
    if (!fs.existsSync(path.join(configured, 'postgres')))
      throw new RuntimeError(`SPARK_TS_POSTGRES_BIN=${configured} holds no postgres binary`);
    return configured;
  }
  const base = path.join(CACHE_DIR, 'postgres');
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, '.complete'))) : [];
  if (!versions.length)
    throw new RuntimeError(
      `no PostgreSQL build in ${base}: run \`make setup\` (or set SPARK_TS_POSTGRES_BIN to a system PostgreSQL's bin directory)`,
    );
  return path.join(base, versions.sort().at(-1)!, 'bin');
}

/**
 * How to run a PostgreSQL program: as ourselves, or, when we are root (CI), as an unprivileged user via
 * util-linux `setpriv` (PostgreSQL refuses to run as root). SPARK_TS_POSTGRES_OS_USER picks the user
 * (default `nobody`).
 */
function runAs(): { prefix: string[]; user: string; uid: number; gid: number } {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return { prefix: [], user: process.env.USER ?? String(uid), uid, gid: process.getgid?.() ?? -1 };
  const user = process.env.SPARK_TS_POSTGRES_OS_USER ?? 'nobody';
  const id = (flag: string) => spawnSync('id', [flag, user], { encoding: 'utf8' });
  const u = id('-u');
  const g = id('-g');
  if (u.status !== 0 || g.status !== 0)
    throw new RuntimeError(
      `running as root, PostgreSQL needs an unprivileged OS user, but user ${user} does not exist (set SPARK_TS_POSTGRES_OS_USER)`,
    );
  if (spawnSync('setpriv', ['--version']).status !== 0)
    throw new RuntimeError(
      'running as root, PostgreSQL needs `setpriv` (util-linux) to drop to an unprivileged user: apt-get install util-linux',
    );
  const uidN = Number(u.stdout.trim());
  const gidN = Number(g.stdout.trim());
  return { prefix: ['setpriv', `--reuid=${uidN}`, `--regid=${gidN}`, '--clear-groups', '--'], user, uid: uidN, gid: gidN };
}

function binaryVersion(bin: string): string {
  const r = spawnSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new RuntimeError(`${path.join(bin, 'postgres')} does not run: ${(r.stderr ?? '') || r.error?.message}`);
  return r.stdout.trim().replace(/^postgres \(PostgreSQL\) /, '');
}

/** `initdb` on first start: a superuser with a generated password, scram-sha-256 on TCP, UTF-8. */
function initDataDir(bin: string, as: ReturnType<typeof runAs>): Credentials {
  const creds: Credentials = { user: POSTGRES_USER, password: randomBytes(18).toString('base64url') };
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  fs.mkdirSync(DATA_DIR, { recursive: true, mode: 0o700 });
  const pwfile = path.join(RUN_DIR, `postgres-pw.${process.pid}.tmp`);
  fs.writeFileSync(pwfile, creds.password + '\n', { mode: 0o600 });
  try {
    if (as.prefix.length) {
      fs.chownSync(DATA_DIR, as.uid, as.gid);
      fs.chownSync(pwfile, as.uid, as.gid);
    }
    const r = spawnSync(
      as.prefix[0] ?? path.join(bin, 'initdb'),
      [
        ...as.prefix.slice(1),
        ...(as.prefix.length ? [path.join(bin, 'initdb')] : []),
        '-D',
        DATA_DIR,
        '-U',
        creds.user,
        `--pwfile=${pwfile}`,
        '-A',
        'scram-sha-256',
        '-E',
        'UTF8',
        '--no-locale',
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) {
      const hint = as.prefix.length
        ? ` (it runs as OS user ${as.user}: every directory above ${DATA_DIR} and ${bin} must be readable and searchable by that user)`
        : '';
      throw new RuntimeError(`initdb failed${hint}:\n${(r.stdout ?? '') + (r.stderr ?? '') || r.error?.message}`);
    }
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  writeJson(CREDENTIALS_FILE, creds, { mode: 0o600 });
  return creds;
}

export async function postgresStatus(): Promise<{ running: boolean; healthy: boolean; state?: PostgresState }> {
  const state = readPostgresState();
  if (!state || !isRunning(state.pid, state.data_dir)) return { running: false, healthy: false, state: undefined };
  return { running: true, healthy: await pingPostgres(state.url, 3000), state };
}

/** A real call: `SELECT 1` over TCP with the password. */
export async function pingPostgres(url: string, timeoutMs: number): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts PostgreSQL on 127.0.0.1 (initdb into .run/postgres on first start; wal_level=logical for
 * Debezium), creates the `spark_ts` database, or reuses a healthy running server.
 */
export function startPostgres(opts: { port?: number; readyTimeoutMs?: number } = {}): Promise<StartResult<PostgresState>> {
  return withStartLock(POSTGRES_STATE_FILE, () => startPostgresLocked(opts));
}

async function startPostgresLocked(opts: { port?: number; readyTimeoutMs?: number }): Promise<StartResult<PostgresState>> {
  const existing = await postgresStatus();
  if (existing.running && existing.state) {
    if (
      existing.healthy ||
      (await waitForPostgres(existing.state, opts.readyTimeoutMs ?? 30_000).then(
        () => true,
        () => false,
      ))
    )
      return { state: existing.state, started: false };
    throw new RuntimeError(
      `PostgreSQL (pid ${existing.state.pid}) is running but not answering; stop it with \`spark-ts down postgres\`\n${tail(existing.state.log)}`,
    );
  }
  const bin = postgresBinDir();
  const version = binaryVersion(bin);
  const port = opts.port ?? DEFAULT_POSTGRES_PORT;
  if (!(await isPortFree(port)))
    throw new RuntimeError(
      `port ${port} on 127.0.0.1 is already in use, so PostgreSQL cannot listen there; free it or set SPARK_TS_POSTGRES_PORT=<port>`,
    );
  const as = runAs();
  fs.mkdirSync(LOG_DIR, { recursive: true });
  if (as.prefix.length) {
    // The unprivileged user must reach the binaries and the run directory (a checkout under a 0700 home cannot work).
    const r = spawnSync(as.prefix[0], [
      ...as.prefix.slice(1),
      'sh',
      '-c',
      'test -x "$1" && test -x "$2"',
      'sh',
      path.join(bin, 'postgres'),
      RUN_DIR,
    ]);
    if (r.status !== 0) {
      throw new RuntimeError(
        `PostgreSQL runs as OS user ${as.user} (we are root), who cannot reach ${path.join(bin, 'postgres')} or ${RUN_DIR}: every directory above them must be searchable by that user (or set SPARK_TS_POSTGRES_OS_USER / SPARK_TS_RUN_DIR)`,
      );
    }
  }
  const major = version.split('.')[0];
  const pgVersionFile = path.join(DATA_DIR, 'PG_VERSION');
  let creds = readJson<Credentials>(CREDENTIALS_FILE);
  const dataMajor = fs.existsSync(pgVersionFile) ? fs.readFileSync(pgVersionFile, 'utf8').trim() : undefined;
  if (dataMajor && dataMajor !== major)
    throw new RuntimeError(
      `${DATA_DIR} was made by PostgreSQL ${dataMajor}, but the binaries are ${version}: remove it (\`make clean\`) or use the matching build`,
    );
  // No data directory, or one whose password is lost (nobody could log in): initdb afresh.
  if (!dataMajor || !creds) creds = initDataDir(bin, as);
  // A crash can leave a stale postmaster.pid: PostgreSQL checks it itself and refuses only if that pid is a live postgres.
  const log = path.join(LOG_DIR, 'postgres.log');
  fs.writeFileSync(log, '');
  const args = [
    '-D',
    DATA_DIR,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `port=${port}`,
    // No Unix socket: its path would be in a directory the unprivileged user may not write, and TCP is what every client uses.
    '-c',
    'unix_socket_directories=',
    '-c',
    'wal_level=logical',
    '-c',
    'max_wal_senders=20',
    '-c',
    'max_replication_slots=20',
    '-c',
    'shared_buffers=64MB',
  ];
  const cmd = as.prefix.length ? as.prefix[0] : path.join(bin, 'postgres');
  const cmdArgs = as.prefix.length ? [...as.prefix.slice(1), path.join(bin, 'postgres'), ...args] : args;
  const pid = spawnDaemon(cmd, cmdArgs, { logFile: log, cwd: RUN_DIR, env: { ...process.env, LC_ALL: 'C' } });
  const state: PostgresState = {
    url: `postgresql://${creds.user}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}/${POSTGRES_DATABASE}`,
    pid,
    port,
    user: creds.user,
    database: POSTGRES_DATABASE,
    data_dir: DATA_DIR,
    bin_dir: bin,
    version,
    os_user: as.user,
    started_at: new Date().toISOString(),
    log,
  };
  await recordStart(
    POSTGRES_STATE_FILE,
    state,
    { pid, marker: DATA_DIR },
    async () => {
      await waitForPostgres({ ...state, url: state.url.replace(/\/[^/]*$/, '/postgres') }, opts.readyTimeoutMs ?? 60_000);
      await ensureDatabase(state);
    },
    () => stopPid(pid),
  );
  return { state, started: true };
}

async function ensureDatabase(state: PostgresState): Promise<void> {
  const admin = new Client({ connectionString: state.url.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  try {
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [state.database]);
    if (!r.rowCount) await admin.query(`CREATE DATABASE ${state.database}`);
  } finally {
    await admin.end();
  }
}

async function waitForPostgres(state: PostgresState, timeoutMs: number): Promise<void> {
  await waitUntilReady(
    { pid: state.pid, marker: state.data_dir, log: state.log, name: 'PostgreSQL' },
    () => pingPostgres(state.url, 2000),
    timeoutMs,
    200,
  );
}

/** SIGINT is PostgreSQL's "fast" shutdown (SIGTERM would wait for every client, e.g. Debezium's replication connection). */
async function stopPid(pid: number, graceMs = 20_000): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isRunning(pid, DATA_DIR)) return 'not-running';
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid, DATA_DIR)) return 'stopped';
    await sleep(100);
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
  for (let i = 0; i < 100 && isRunning(pid, DATA_DIR); i++) await sleep(100);
  return 'killed';
}

export async function stopPostgres(): Promise<'stopped' | 'killed' | 'not-running'> {
  const state = readPostgresState();
  if (!state) return 'not-running';
  const result = await stopPid(state.pid);
  fs.rmSync(POSTGRES_STATE_FILE, { force: true });
  return result;
}
