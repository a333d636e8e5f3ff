/**
 * The benchmark's modes: how the same workload is held between queries.
 *
 * The storage-level names follow Spark's Scala/Java StorageLevel constants, where MEMORY_ONLY and
 * MEMORY_AND_DISK keep deserialized objects and the *_SER variants serialized bytes. (PySpark's constants of the
 * same names are serialized; the flags below are what is sent, and what the job confirms on the server.)
 */
export const MODES = ['none', 'MEMORY_ONLY', 'MEMORY_AND_DISK', 'MEMORY_ONLY_SER', 'DISK_ONLY', 'OFF_HEAP', 'parquet', 'csv'] as const;
export type ModeName = (typeof MODES)[number];

/** A storage level as flags, independent of the client's StorageLevel class (so this module needs no server). */
export interface LevelFlags {
  useDisk: boolean;
  useMemory: boolean;
  useOffHeap: boolean;
  deserialized: boolean;
  replication: number;
}

const flags = (useDisk: boolean, useMemory: boolean, useOffHeap: boolean, deserialized: boolean): LevelFlags => ({
  useDisk,
  useMemory,
  useOffHeap,
  deserialized,
  replication: 1,
});

/** Spark's (Scala) storage levels with replication 1, by name. */
export const SCALA_LEVELS: Readonly<Record<string, LevelFlags>> = {
  NONE: flags(false, false, false, false),
  MEMORY_ONLY: flags(false, true, false, true),
  MEMORY_AND_DISK: flags(true, true, false, true),
  MEMORY_ONLY_SER: flags(false, true, false, false),
  MEMORY_AND_DISK_SER: flags(true, true, false, false),
  DISK_ONLY: flags(true, false, false, false),
  OFF_HEAP: flags(true, true, true, false),
};

export type ModeKind = 'uncached' | 'persisted' | 'file';

export interface ModeSpec {
  mode: ModeName;
  kind: ModeKind;
  /** The level to persist at (persisted modes only). */
  level?: LevelFlags;
  /** One line for the README and --help. */
  describe: string;
}

export const MODE_SPECS: Readonly<Record<ModeName, ModeSpec>> = {
  none: {
    mode: 'none',
    kind: 'uncached',
    describe: 'no cache: every query recomputes the workload from its lineage (range + random expressions)',
  },
  MEMORY_ONLY: {
    mode: 'MEMORY_ONLY',
    kind: 'persisted',
    level: SCALA_LEVELS.MEMORY_ONLY,
    describe: 'cached in executor heap as deserialized objects; partitions that do not fit are recomputed',
  },
  MEMORY_AND_DISK: {
    mode: 'MEMORY_AND_DISK',
    kind: 'persisted',
    level: SCALA_LEVELS.MEMORY_AND_DISK,
    describe: 'in heap, deserialized; partitions that do not fit spill to local disk',
  },
  MEMORY_ONLY_SER: {
    mode: 'MEMORY_ONLY_SER',
    kind: 'persisted',
    level: SCALA_LEVELS.MEMORY_ONLY_SER,
    describe: 'in heap as serialized bytes (deserialized=false)',
  },
  DISK_ONLY: { mode: 'DISK_ONLY', kind: 'persisted', level: SCALA_LEVELS.DISK_ONLY, describe: 'serialized on local disk only' },
  OFF_HEAP: {
    mode: 'OFF_HEAP',
    kind: 'persisted',
    level: SCALA_LEVELS.OFF_HEAP,
    describe: 'serialized in off-heap memory (needs spark.memory.offHeap.enabled), spilling to disk',
  },
  parquet: { mode: 'parquet', kind: 'file', describe: 'no cache: every iteration re-reads the workload from Parquet files' },
  csv: { mode: 'csv', kind: 'file', describe: 'no cache: every iteration re-reads the workload from CSV files' },
};

/**
 * Parses `--modes m1,m2,...` (case-insensitive, spaces allowed). Returns the modes in the canonical order with
 * duplicates removed, or throws an Error naming the unknown modes and the known ones.
 */
export function parseModes(value: string | readonly string[] | undefined): ModeName[] {
  if (value === undefined) return [...MODES];
  const parts = (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new Error(`--modes is empty; known modes: ${MODES.join(', ')}`);
  const byLower = new Map(MODES.map((m) => [m.toLowerCase(), m] as const));
  const unknown = parts.filter((p) => !byLower.has(p.toLowerCase()));
  if (unknown.length)
    throw new Error(
      `unknown mode${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; known modes: ${MODES.join(', ')}`,
    );
  const chosen = new Set(parts.map((p) => byLower.get(p.toLowerCase()) as ModeName));
  return MODES.filter((m) => chosen.has(m));
}

export function sameFlags(a: LevelFlags, b: LevelFlags): boolean {
  return (
    a.useDisk === b.useDisk &&
    a.useMemory === b.useMemory &&
    a.useOffHeap === b.useOffHeap &&
    a.deserialized === b.deserialized &&
    a.replication === b.replication
  );
}

/** The Scala constant name for these flags, or Spark's own description ("Disk Memory Serialized 2x Replicated"). */
export function levelName(level: LevelFlags): string {
  for (const [name, f] of Object.entries(SCALA_LEVELS)) if (sameFlags(f, level)) return name;
  return describeLevel(level);
}

export function describeLevel(level: LevelFlags): string {
  const parts = [
    level.useDisk && 'Disk',
    level.useMemory && 'Memory',
    level.useOffHeap && 'OffHeap',
    level.deserialized ? 'Deserialized' : 'Serialized',
  ];
  return `${parts.filter(Boolean).join(' ')} ${level.replication}x Replicated`;
}
