import type { StorageLevel as StorageLevelProto, StorageLevel__Output } from './gen/spark/connect/StorageLevel';

/**
 * Where and how Spark keeps a persisted DataFrame. The constants and their flags are PySpark's
 * (pyspark.storagelevel): note that PySpark's MEMORY_ONLY and MEMORY_AND_DISK are serialized
 * (deserialized=false), and the *_DESER variants are what Scala calls MEMORY_ONLY / MEMORY_AND_DISK.
 */
export class StorageLevel {
  constructor(
    readonly useDisk: boolean,
    readonly useMemory: boolean,
    readonly useOffHeap: boolean,
    readonly deserialized: boolean,
    readonly replication = 1,
  ) {}

  static readonly NONE = new StorageLevel(false, false, false, false);
  static readonly DISK_ONLY = new StorageLevel(true, false, false, false);
  static readonly DISK_ONLY_2 = new StorageLevel(true, false, false, false, 2);
  static readonly DISK_ONLY_3 = new StorageLevel(true, false, false, false, 3);
  static readonly MEMORY_ONLY = new StorageLevel(false, true, false, false);
  static readonly MEMORY_ONLY_2 = new StorageLevel(false, true, false, false, 2);
  static readonly MEMORY_AND_DISK = new StorageLevel(true, true, false, false);
  static readonly MEMORY_AND_DISK_2 = new StorageLevel(true, true, false, false, 2);
  static readonly OFF_HEAP = new StorageLevel(true, true, true, false, 1);
  static readonly MEMORY_AND_DISK_DESER = new StorageLevel(true, true, false, true);

  static fromProto(p: StorageLevel__Output | null | undefined): StorageLevel {
    if (!p) return StorageLevel.NONE;
    return new StorageLevel(p.use_disk, p.use_memory, p.use_off_heap, p.deserialized, p.replication || 1);
  }

  toProto(): StorageLevelProto {
    return {
      use_disk: this.useDisk,
      use_memory: this.useMemory,
      use_off_heap: this.useOffHeap,
      deserialized: this.deserialized,
      replication: this.replication,
    };
  }

  equals(other: StorageLevel): boolean {
    return (
      this.useDisk === other.useDisk &&
      this.useMemory === other.useMemory &&
      this.useOffHeap === other.useOffHeap &&
      this.deserialized === other.deserialized &&
      this.replication === other.replication
    );
  }

  /** The PySpark constant name for these flags, if there is one (e.g. "MEMORY_AND_DISK_DESER"). */
  get name(): string | undefined {
    for (const [k, v] of Object.entries(StorageLevel)) if (v instanceof StorageLevel && v.equals(this)) return k;
    return undefined;
  }

  /** PySpark's str(): "Disk Memory Deserialized 1x Replicated". */
  toString(): string {
    const parts = [
      this.useDisk ? 'Disk' : '',
      this.useMemory ? 'Memory' : '',
      this.useOffHeap ? 'OffHeap' : '',
      this.deserialized ? 'Deserialized' : 'Serialized',
    ];
    return `${parts.filter(Boolean).join(' ')} ${this.replication}x Replicated`;
  }
}
