import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { CdcState, type Counters, type KeyState, type ModelConfig } from './state';
import { SufficientStats, type EncodedRow, type StatsJson } from './stats';
import { errorMessage } from '../util/errors';

// 2: rows hold the encoded feature vector + label instead of the JSON row, and where a delete was read.
// 3: the table is a chain of segments (one base + deltas) of packed key records instead of one SQLite row per key.
const SCHEMA_VERSION = '3';
/** Version 2 stores (one SQLite row per key) are read and converted to segments when opened for writing. */
const ROWS_SCHEMA_VERSION = '2';
export const STORE_FILE = 'state.db';
export const MODEL_FILE = 'model.json';
/** Held (an exclusive SQLite lock, released by the OS when the process dies) while a consumer owns the directory. */
export const LOCK_FILE = 'state.lock';

/** A missing, corrupt or mismatched state store: the consumer refuses to start (exit 1) unless --reset. */
export class StateStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateStoreError';
  }
}

/**
 * One consumer per state directory: an exclusive lock on <dir>/state.lock. It is a SQLite lock (fcntl),
 * so it is released by the kernel when the holder dies (a SIGKILLed consumer can restart at once) and
 * it works between processes and between connections of one process.
 */
export class StateDirLock {
  private constructor(private readonly db: Database.Database | null) {}

  static acquire(dir: string): StateDirLock {
    fs.mkdirSync(dir, { recursive: true });
    const db = new Database(path.join(dir, LOCK_FILE), { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY') {
        throw new StateStoreError(
          `state directory ${dir} is in use by another consumer (${path.join(dir, LOCK_FILE)} is locked): refusing to run two consumers over one state`,
        );
      }
      throw e;
    }
    return new StateDirLock(db);
  }

  release(): void {
    this.db?.close();
  }
}

/**
 * The table is stored as packed key records, little-endian: id f64, lsn f64, delete offset f64 (NaN: none),
 * delete partition i32 (-1: none), tag u8, y i8 (-1: no label), 2 bytes padding, then for a live row its
 * p features as Int32 (tag ROW_I32: every value fits) or Float64 (tag ROW_F64; safe integers stay exact).
 * A record with tag GONE removes the key (pruned). Later records of a key replace earlier ones.
 */
const HEADER = 32;
const TAG_GONE = 0;
const TAG_NO_ROW = 1;
const TAG_ROW_I32 = 2;
const TAG_ROW_F64 = 3;

/** Packs key records into one buffer. */
export function encodeRecords(entries: Iterable<[number, KeyState | null]>, count: number, p: number): Buffer {
  let buf = Buffer.allocUnsafe(Math.max(HEADER, count * (HEADER + 8 * p)));
  let dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  for (const [id, k] of entries) {
    if (o + HEADER + 8 * p > buf.byteLength) {
      // More entries than announced: grow.
      const bigger = Buffer.allocUnsafe(buf.byteLength * 2 + HEADER + 8 * p);
      buf.copy(bigger, 0, 0, o);
      buf = bigger;
      dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    dv.setFloat64(o, id, true);
    const row = k?.row ?? null;
    if (k === null) {
      dv.setFloat64(o + 8, 0, true);
      dv.setFloat64(o + 16, Number.NaN, true);
      dv.setInt32(o + 24, -1, true);
      dv.setUint8(o + 28, TAG_GONE);
      dv.setInt8(o + 29, -1);
      o += HEADER;
      continue;
    }
    dv.setFloat64(o + 8, k.lsn, true);
    dv.setFloat64(o + 16, k.deletedAt ? k.deletedAt[1] : Number.NaN, true);
    dv.setInt32(o + 24, k.deletedAt ? k.deletedAt[0] : -1, true);
    dv.setInt8(o + 29, row === null || row.y === null ? -1 : row.y);
    if (row === null) {
      dv.setUint8(o + 28, TAG_NO_ROW);
      o += HEADER;
      continue;
    }
    const x = row.x;
    let fits = true;
    for (let j = 0; j < p; j++) {
      const v = x[j];
      if (v < -2147483648 || v > 2147483647) {
        fits = false;
        break;
      }
    }
    dv.setUint8(o + 28, fits ? TAG_ROW_I32 : TAG_ROW_F64);
    o += HEADER;
    if (fits) for (let j = 0; j < p; j++, o += 4) dv.setInt32(o, x[j], true);
    else for (let j = 0; j < p; j++, o += 8) dv.setFloat64(o, x[j], true);
  }
  return buf.subarray(0, o);
}

/** Applies a buffer of key records to `keys` in order (a GONE record removes the key). */
export function decodeRecords(b: Buffer, p: number, keys: Map<number, KeyState>): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 0;
  while (o < b.byteLength) {
    if (o + HEADER > b.byteLength) throw new Error(`truncated key record at byte ${o}`);
    const id = dv.getFloat64(o, true);
    const tag = dv.getUint8(o + 28);
    if (tag === TAG_GONE) {
      keys.delete(id);
      o += HEADER;
      continue;
    }
    const lsn = dv.getFloat64(o + 8, true);
    const delOffset = dv.getFloat64(o + 16, true);
    const delPartition = dv.getInt32(o + 24, true);
    const yv = dv.getInt8(o + 29);
    let row: EncodedRow | null = null;
    o += HEADER;
    if (tag === TAG_ROW_I32 || tag === TAG_ROW_F64) {
      const width = tag === TAG_ROW_I32 ? 4 : 8;
      if (o + width * p > b.byteLength) throw new Error(`truncated key record at byte ${o}`);
      const x = new Array<number>(p);
      if (width === 4) for (let j = 0; j < p; j++, o += 4) x[j] = dv.getInt32(o, true);
      else for (let j = 0; j < p; j++, o += 8) x[j] = dv.getFloat64(o, true);
      row = { x, y: yv === -1 ? null : yv };
    } else if (tag !== TAG_NO_ROW) throw new Error(`unknown key record tag ${tag}`);
    const k: KeyState = { lsn, row };
    if (row === null && delPartition >= 0 && !Number.isNaN(delOffset)) k.deletedAt = [delPartition, delOffset];
    keys.set(id, k);
  }
}

function decodeVector(b: Buffer, p: number): number[] {
  const width = b.byteLength / p;
  if (width !== 4 && width !== 8) throw new Error(`row vector of ${b.byteLength} bytes for ${p} features`);
  const copy = new Uint8Array(b); // aligned
  return Array.from(width === 4 ? new Int32Array(copy.buffer) : new Float64Array(copy.buffer));
}

/** A row of a version 2 store (one SQLite row per key). */
interface StoredRow {
  id: number;
  lsn: number;
  x: Buffer | null;
  y: number | null;
  del_partition: number | null;
  del_offset: number | null;
}

function keyStateOf(r: StoredRow, p: number): KeyState {
  const row: EncodedRow | null = r.x === null ? null : { x: decodeVector(r.x, p), y: r.y };
  const k: KeyState = { lsn: r.lsn, row };
  if (row === null && r.del_partition !== null && r.del_offset !== null) k.deletedAt = [r.del_partition, r.del_offset];
  return k;
}

export interface OpenOptions {
  /** Delete the store and model.json first and start empty. */
  reset?: boolean;
  /** The model configuration asked for; parts left undefined are taken from an existing store. */
  config: Partial<ModelConfig>;
  /** The configuration of a new store (the defaults merged with what was asked). */
  defaults: ModelConfig;
  topic: string;
  /** The directory lock, when the caller took it already (else open takes it). */
  lock?: StateDirLock;
  /** When the segment chain is compacted (tests make it small). */
  tuning?: StoreTuning;
}

export interface LoadedState {
  store: StateStore;
  state: CdcState;
  /** Next offset to consume, per partition, as committed with the state. */
  offsets: Map<number, number>;
  /** True when the store was created now (first run or --reset). */
  created: boolean;
}

/**
 * The consumer's durable state in one SQLite database (WAL, synchronous=FULL): the table (each key with its
 * last lsn; the row is absent once deleted), the exact statistics, the counters and the consumed offsets.
 * The table is a chain of segments of packed key records (encodeRecords): a base (every key, as of some
 * commit) and the deltas after it (the keys each commit touched), applied in order on load. A commit is one
 * transaction that appends one delta (one blob, not one statement per key) with the statistics, counters
 * and offsets, so state and offsets always move together and a crash at any moment leaves the last
 * committed state. When the deltas outgrow the base (`compactFactor` times, at least `compactMinBytes`), the
 * commit rewrites the chain as one new base from the committed table instead (same transaction).
 */
export interface StoreTuning {
  /** Compact when the deltas' bytes exceed max(compactFactor · base bytes, compactMinBytes). */
  compactFactor?: number;
  compactMinBytes?: number;
}

const DEFAULT_COMPACT_FACTOR = 2;
const DEFAULT_COMPACT_MIN_BYTES = 8 * 2 ** 20;

export class StateStore {
  private readonly putSegment: Database.Statement;
  private readonly clearSegments: Database.Statement;
  private readonly putMeta: Database.Statement;
  private readonly putOffset: Database.Statement;
  private readonly commitTx: (
    segment: Buffer,
    compact: boolean,
    stats: StatsJson,
    counters: Counters,
    offsets: Array<[number, number]>,
  ) => void;
  private baseBytes: number;
  private deltaBytes: number;
  private readonly compactFactor: number;
  private readonly compactMinBytes: number;
  /** Segments written (deltas) and bases rewritten: for tests and the bench. */
  readonly writes = { deltas: 0, compactions: 0, bytes: 0 };

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    readonly topic: string,
    private readonly lock: StateDirLock,
    tuning: StoreTuning = {},
  ) {
    this.putSegment = db.prepare('INSERT INTO segments (kind, data) VALUES (?, ?)');
    this.clearSegments = db.prepare('DELETE FROM segments');
    this.putMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.putOffset = db.prepare(
      'INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset',
    );
    const sizes = db.prepare('SELECT kind, coalesce(sum(length(data)), 0) AS bytes FROM segments GROUP BY kind').all() as Array<{
      kind: string;
      bytes: number;
    }>;
    this.baseBytes = sizes.find((r) => r.kind === 'base')?.bytes ?? 0;
    this.deltaBytes = sizes.find((r) => r.kind === 'delta')?.bytes ?? 0;
    this.compactFactor = tuning.compactFactor ?? DEFAULT_COMPACT_FACTOR;
    this.compactMinBytes = tuning.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
    this.commitTx = db.transaction((segment, compact, stats, counters, offsets) => {
      if (compact) this.clearSegments.run();
      if (segment.byteLength > 0) this.putSegment.run(compact ? 'base' : 'delta', segment);
      this.putMeta.run('stats', JSON.stringify(stats));
      this.putMeta.run('counters', JSON.stringify(counters));
      for (const [partition, next] of offsets) this.putOffset.run(this.topic, partition, next);
    });
  }

  static open(dir: string, opts: OpenOptions): LoadedState {
    const lock = opts.lock ?? StateDirLock.acquire(dir);
    try {
      const file = path.join(dir, STORE_FILE);
      const modelFile = path.join(dir, MODEL_FILE);
      if (opts.reset) {
        for (const f of [file, `${file}-wal`, `${file}-shm`, modelFile]) fs.rmSync(f, { force: true });
      }
      if (!fs.existsSync(file)) {
        if (fs.existsSync(modelFile)) {
          throw new StateStoreError(
            `state store ${file} is missing but ${modelFile} exists: refusing to start over existing data (pass --reset to start from the beginning of the topic)`,
          );
        }
        return StateStore.create(file, opts, lock);
      }
      return StateStore.load(file, opts, lock);
    } catch (e) {
      if (!opts.lock) lock.release();
      throw e;
    }
  }

  private static pragmas(db: Database.Database): void {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  }

  private static create(file: string, opts: OpenOptions, lock: StateDirLock): LoadedState {
    const config: ModelConfig = { ...opts.defaults, ...definedOnly(opts.config) };
    const tmp = `${file}.creating`;
    fs.rmSync(tmp, { force: true });
    // Built under a temporary name and renamed, so a crash during creation leaves no half-made store.
    const init = new Database(tmp);
    init.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE segments (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, data BLOB NOT NULL);
      CREATE TABLE offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition));
    `);
    const state = new CdcState(config);
    const put = init.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    init.transaction(() => {
      put.run('schema_version', SCHEMA_VERSION);
      put.run('config', JSON.stringify(config));
      put.run('topic', opts.topic);
      put.run('created_at', new Date().toISOString());
      put.run('stats', JSON.stringify(state.stats.toJSON()));
      put.run('counters', JSON.stringify(state.counters));
    })();
    init.close();
    fs.renameSync(tmp, file);
    const db = new Database(file, { fileMustExist: true });
    StateStore.pragmas(db);
    return { store: new StateStore(db, file, opts.topic, lock, opts.tuning), state, offsets: new Map(), created: true };
  }

  private static load(file: string, opts: OpenOptions, lock: StateDirLock): LoadedState {
    const corrupt = (why: string) =>
      new StateStoreError(
        `state store ${file} is unreadable or corrupt (${why}): refusing to start over it; move it aside or pass --reset to rebuild from the beginning of the topic`,
      );
    let db: Database.Database;
    try {
      db = new Database(file, { fileMustExist: true });
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
    } catch (e) {
      throw corrupt(errorMessage(e));
    }
    try {
      const meta = new Map(
        (db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]),
      );
      const version = meta.get('schema_version');
      if (version !== SCHEMA_VERSION && version !== ROWS_SCHEMA_VERSION)
        throw corrupt(`schema version ${version ?? 'missing'}, expected ${SCHEMA_VERSION} (or ${ROWS_SCHEMA_VERSION}, converted)`);
      const config = JSON.parse(meta.get('config') ?? 'null') as ModelConfig | null;
      if (!config || !Array.isArray(config.features)) throw corrupt('no model configuration');
      const topic = meta.get('topic');
      if (topic !== opts.topic)
        throw new StateStoreError(
          `state store ${file} belongs to topic ${topic}, not ${opts.topic}: use another --state-dir or pass --reset`,
        );
      const asked = definedOnly(opts.config);
      for (const [k, v] of Object.entries(asked) as Array<[keyof ModelConfig, unknown]>) {
        if (JSON.stringify(config[k]) !== JSON.stringify(v)) {
          throw new StateStoreError(
            `state store ${file} was built with ${k} = ${JSON.stringify(config[k])}, not ${JSON.stringify(v)}: pass --reset to rebuild with the new setting`,
          );
        }
      }
      const stats = SufficientStats.fromJSON(JSON.parse(meta.get('stats') ?? 'null') as StatsJson);
      if (stats.p !== config.features.length) throw corrupt('statistics do not match the feature list');
      const state = new CdcState(config, stats);
      Object.assign(state.counters, JSON.parse(meta.get('counters') ?? '{}') as Counters);
      readTable(db, state, version);
      // The statistics must be exactly those of the stored table; anything else is corruption.
      if (!state.recomputeStats().equals(state.stats)) throw corrupt('statistics do not match the stored table');
      if (version === ROWS_SCHEMA_VERSION) convertRowsToSegments(db, state);
      const offsets = new Map(
        (
          db.prepare('SELECT partition, next_offset FROM offsets WHERE topic = ?').all(opts.topic) as Array<{
            partition: number;
            next_offset: number;
          }>
        ).map((r) => [r.partition, r.next_offset]),
      );
      StateStore.pragmas(db);
      return { store: new StateStore(db, file, opts.topic, lock, opts.tuning), state, offsets, created: false };
    } catch (e) {
      db.close();
      if (e instanceof StateStoreError) throw e;
      throw corrupt(errorMessage(e));
    }
  }

  /**
   * Commits the touched keys (null: remove the key), the statistics, the counters and the partition offsets,
   * atomically. `dirty` must hold every key changed since the last commit, so that `state.keys` is the
   * committed table: a compaction writes it whole as the new base.
   */
  commit(dirty: Map<number, KeyState | null>, state: CdcState, offsets: Array<[number, number]>): void {
    const p = state.config.features.length;
    const delta = dirty.size ? encodeRecords(dirty, dirty.size, p) : Buffer.alloc(0);
    const compact =
      this.deltaBytes + delta.byteLength > Math.max(this.compactFactor * this.baseBytes, this.compactMinBytes) && delta.byteLength > 0;
    const segment = compact ? encodeRecords(state.keys, state.keys.size, p) : delta;
    this.commitTx(segment, compact, state.stats.toJSON(), state.counters, offsets);
    if (compact) {
      this.baseBytes = segment.byteLength;
      this.deltaBytes = 0;
      this.writes.compactions++;
    } else if (segment.byteLength) {
      this.deltaBytes += segment.byteLength;
      this.writes.deltas++;
    }
    this.writes.bytes += segment.byteLength;
  }

  close(): void {
    this.db.close();
    this.lock.release();
  }
}

/** Reads the stored table into `state`: the segments in order (version 3) or the rows table (version 2). */
function readTable(db: Database.Database, state: CdcState, version: string | undefined): void {
  const p = state.config.features.length;
  if (version === ROWS_SCHEMA_VERSION) {
    for (const r of db.prepare('SELECT id, lsn, x, y, del_partition, del_offset FROM rows').iterate() as IterableIterator<StoredRow>)
      state.restore(r.id, keyStateOf(r, p));
  } else {
    const keys = new Map<number, KeyState>();
    for (const r of db.prepare('SELECT data FROM segments ORDER BY seq').iterate() as IterableIterator<{ data: Buffer }>)
      decodeRecords(r.data, p, keys);
    for (const [id, k] of keys) state.restore(id, k);
  }
  state.restored();
}

/** Converts a version 2 store (one SQLite row per key) to segments: one base holding the table, in one transaction. */
function convertRowsToSegments(db: Database.Database, state: CdcState): void {
  db.transaction(() => {
    db.exec('CREATE TABLE segments (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, data BLOB NOT NULL)');
    const base = encodeRecords(state.keys, state.keys.size, state.config.features.length);
    if (base.byteLength) db.prepare('INSERT INTO segments (kind, data) VALUES (?, ?)').run('base', base);
    db.exec('DROP TABLE rows');
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(SCHEMA_VERSION, 'schema_version');
  })();
}

function definedOnly<T extends object>(o: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Reads a store without touching it (cdc-verify): the table and the configuration. */
export function readStoreReadOnly(dir: string): { state: CdcState; offsets: Map<number, number>; topic: string } {
  const file = path.join(dir, STORE_FILE);
  if (!fs.existsSync(file)) throw new StateStoreError(`no state store at ${file}: run cdc-consume first (or give --state-dir)`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new StateStoreError(`cannot open state store ${file}: ${errorMessage(e)}`);
  }
  try {
    const meta = new Map(
      (db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]),
    );
    const config = JSON.parse(meta.get('config') ?? 'null') as ModelConfig;
    const topic = meta.get('topic') ?? '';
    const state = new CdcState(config, SufficientStats.fromJSON(JSON.parse(meta.get('stats') ?? 'null') as StatsJson));
    Object.assign(state.counters, JSON.parse(meta.get('counters') ?? '{}') as Counters);
    const version = meta.get('schema_version');
    if (version !== SCHEMA_VERSION && version !== ROWS_SCHEMA_VERSION)
      throw new Error(`schema version ${version ?? 'missing'}, expected ${SCHEMA_VERSION} (or ${ROWS_SCHEMA_VERSION})`);
    readTable(db, state, version);
    const offsets = new Map(
      (
        db.prepare('SELECT partition, next_offset FROM offsets WHERE topic = ?').all(topic) as Array<{
          partition: number;
          next_offset: number;
        }>
      ).map((r) => [r.partition, r.next_offset]),
    );
    return { state, offsets, topic };
  } catch (e) {
    throw new StateStoreError(`state store ${file} is unreadable or corrupt: ${errorMessage(e)}`);
  } finally {
    db.close();
  }
}
