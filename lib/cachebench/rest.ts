import { readSparkState } from '../runtime/spark-server';
import { errorMessage } from '../util/errors';

/**
 * A reader for Spark's monitoring REST API (served by the driver's UI): which application runs, and what it
 * keeps cached. This is where the benchmark's memory and disk figures come from: Spark's own block manager
 * accounting, not an estimate made in Node.
 */

/** One cached RDD as `/api/v1/applications/<id>/storage/rdd` lists it (the fields the benchmark uses). */
export interface CachedRdd {
  id: number;
  name: string;
  numPartitions: number;
  numCachedPartitions: number;
  storageLevel: string;
  memoryUsed: number;
  diskUsed: number;
  /** Of memoryUsed, on-heap and off-heap (from the per-executor distribution, when Spark gives it). */
  onHeapMemoryUsed: number | null;
  offHeapMemoryUsed: number | null;
}

export interface SparkApplication {
  id: string;
  name: string;
  sparkVersion: string | null;
  completed: boolean;
  startTimeEpoch: number;
}

export class RestUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestUnavailableError';
  }
}

/**
 * The UI address to try first: an explicit one, SPARK_TS_UI_URL, the embedded server's .run/spark.json, then
 * Spark's default port. On a shared machine 4040 may well be another server's UI (Spark moves to the next free
 * port when one is taken): `locateSparkUi` checks that the address serves *this* server's application.
 */
export function resolveUiUrl(explicit?: string): string {
  return uiUrlCandidates(explicit)[0];
}

/** Spark binds its UI to spark.ui.port (4040) or, when that is taken, one of the next spark.port.maxRetries (16) ports. */
export const DEFAULT_UI_PORTS: readonly number[] = Array.from({ length: 17 }, (_, i) => 4040 + i);

/** Where to look for the UI, in order: an explicit address alone; else SPARK_TS_UI_URL, the server state's, then the default ports. */
export function uiUrlCandidates(explicit?: string, envUrl = process.env.SPARK_TS_UI_URL, stateUrl = stateUiUrl()): string[] {
  const clean = (u: string) => u.replace(/\/+$/, '');
  if (explicit) return [clean(explicit)];
  const all = [envUrl, stateUrl, ...DEFAULT_UI_PORTS.map((p) => `http://127.0.0.1:${p}`)].filter((u): u is string => !!u).map(clean);
  return [...new Set(all)];
}

function stateUiUrl(): string | undefined {
  try {
    return readSparkState()?.ui_url ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The UI that serves application `appId` (the Connect session's `spark.app.id`): the first candidate whose REST
 * API lists it. An explicit address is the only candidate. When none does, the first candidate is returned (its
 * client, bound to `appId`, then reports why it is not usable). Without an app id, the first candidate.
 */
export async function locateSparkUi(appId: string | null, candidates: readonly string[], timeoutMs = 5_000): Promise<string> {
  if (!appId || candidates.length === 1) return candidates[0];
  for (const url of candidates) {
    try {
      const apps = await new SparkRestClient(url, timeoutMs).applications();
      if (apps.some((a) => a.id === appId)) return url;
    } catch {
      // not a UI, or not answering: the next one
    }
  }
  return candidates[0];
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : Number(v ?? NaN));

/** Parses the `/applications` answer; the live application (not completed) started last comes first. */
export function parseApplications(json: unknown): SparkApplication[] {
  if (!Array.isArray(json)) throw new RestUnavailableError(`unexpected /applications answer: ${JSON.stringify(json).slice(0, 200)}`);
  const apps = json.map((a: Record<string, unknown>) => {
    const attempts = Array.isArray(a.attempts) ? (a.attempts as Array<Record<string, unknown>>) : [];
    const last = attempts[attempts.length - 1] ?? {};
    return {
      id: String(a.id),
      name: String(a.name ?? ''),
      sparkVersion: typeof last.appSparkVersion === 'string' ? last.appSparkVersion : null,
      completed: last.completed === true,
      startTimeEpoch: num(last.startTimeEpoch ?? 0),
    };
  });
  return apps.sort((x, y) => Number(x.completed) - Number(y.completed) || y.startTimeEpoch - x.startTimeEpoch);
}

/** Parses the `/storage/rdd` answer. */
export function parseStorageRdds(json: unknown): CachedRdd[] {
  if (!Array.isArray(json)) throw new RestUnavailableError(`unexpected /storage/rdd answer: ${JSON.stringify(json).slice(0, 200)}`);
  return json.map((r: Record<string, unknown>) => {
    const dist = Array.isArray(r.dataDistribution) ? (r.dataDistribution as Array<Record<string, unknown>>) : null;
    const sumOf = (k: string): number | null =>
      dist && dist.length && dist.every((d) => typeof d[k] === 'number') ? dist.reduce((s, d) => s + num(d[k]), 0) : null;
    return {
      id: num(r.id),
      name: String(r.name ?? ''),
      numPartitions: num(r.numPartitions),
      numCachedPartitions: num(r.numCachedPartitions),
      storageLevel: String(r.storageLevel ?? ''),
      memoryUsed: num(r.memoryUsed),
      diskUsed: num(r.diskUsed),
      onHeapMemoryUsed: sumOf('onHeapMemoryUsed'),
      offHeapMemoryUsed: sumOf('offHeapMemoryUsed'),
    };
  });
}

export interface StorageTotals {
  rdds: number;
  numPartitions: number;
  numCachedPartitions: number;
  memoryBytes: number;
  diskBytes: number;
  offHeapBytes: number | null;
}

/** Adds up the cached RDDs (a persisted DataFrame is normally one RDD). */
export function totals(rdds: readonly CachedRdd[]): StorageTotals {
  const offHeap = rdds.every((r) => r.offHeapMemoryUsed !== null) ? rdds.reduce((s, r) => s + (r.offHeapMemoryUsed ?? 0), 0) : null;
  return {
    rdds: rdds.length,
    numPartitions: rdds.reduce((s, r) => s + r.numPartitions, 0),
    numCachedPartitions: rdds.reduce((s, r) => s + r.numCachedPartitions, 0),
    memoryBytes: rdds.reduce((s, r) => s + r.memoryUsed, 0),
    diskBytes: rdds.reduce((s, r) => s + r.diskUsed, 0),
    offHeapBytes: offHeap,
  };
}

/** The storage memory the block managers offer (what a cache can fill before it evicts or spills). */
export interface StorageCapacity {
  onHeapBytes: number | null;
  offHeapBytes: number | null;
}

/** Parses `/executors`: the sum over active executors (in local mode, the driver alone). */
export function parseStorageCapacity(json: unknown): StorageCapacity {
  if (!Array.isArray(json)) throw new RestUnavailableError(`unexpected /executors answer: ${JSON.stringify(json).slice(0, 200)}`);
  const active = (json as Array<Record<string, unknown>>).filter((e) => e.isActive !== false);
  const sum = (k: string): number | null => {
    const vals = active.map((e) => (e.memoryMetrics as Record<string, unknown> | undefined)?.[k]);
    return vals.length && vals.every((v) => typeof v === 'number') ? (vals as number[]).reduce((a, b) => a + b, 0) : null;
  };
  return { onHeapBytes: sum('totalOnHeapStorageMemory'), offHeapBytes: sum('totalOffHeapStorageMemory') };
}

export class SparkRestClient {
  private appId?: string;

  constructor(
    readonly uiUrl: string,
    // Generous: on a loaded machine the UI can take several seconds to answer its first request.
    private readonly timeoutMs = 15_000,
    /** This server's application id (spark.app.id): set, the client refuses a UI that serves another application. */
    readonly expectedAppId?: string,
  ) {}

  private async get(pathname: string): Promise<unknown> {
    const url = `${this.uiUrl}/api/v1${pathname}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? errorMessage(e);
      throw new RestUnavailableError(`Spark's monitoring REST API at ${url} cannot be reached (${cause})`);
    }
    if (!res.ok) throw new RestUnavailableError(`Spark's monitoring REST API at ${url} answered HTTP ${res.status}`);
    try {
      return await res.json();
    } catch {
      throw new RestUnavailableError(`Spark's monitoring REST API at ${url} did not answer JSON`);
    }
  }

  async applications(): Promise<SparkApplication[]> {
    return parseApplications(await this.get('/applications'));
  }

  /** The live application's id (cached after the first call). */
  async applicationId(): Promise<string> {
    if (this.appId) return this.appId;
    const apps = await this.applications();
    if (!apps.length) throw new RestUnavailableError(`Spark's monitoring REST API at ${this.uiUrl} lists no application`);
    if (this.expectedAppId !== undefined && !apps.some((a) => a.id === this.expectedAppId)) {
      throw new RestUnavailableError(
        `Spark's monitoring REST API at ${this.uiUrl} serves ${apps.map((a) => a.id).join(', ')}, not this server's application ${this.expectedAppId} ` +
          `(another Spark server holds that port); pass --ui-url or SPARK_TS_UI_URL`,
      );
    }
    this.appId = this.expectedAppId ?? apps[0].id;
    return this.appId;
  }

  async storageRdds(): Promise<CachedRdd[]> {
    const id = await this.applicationId();
    return parseStorageRdds(await this.get(`/applications/${encodeURIComponent(id)}/storage/rdd`));
  }

  async storageCapacity(): Promise<StorageCapacity> {
    const id = await this.applicationId();
    return parseStorageCapacity(await this.get(`/applications/${encodeURIComponent(id)}/executors`));
  }

  /** The cached RDDs whose name (the cached plan's text) contains `marker`. */
  async cachedWith(marker: string): Promise<CachedRdd[]> {
    return (await this.storageRdds()).filter((r) => r.name.includes(marker));
  }

  /** Whether the API answers, and why not when it does not. */
  async probe(): Promise<{ ok: true; appId: string } | { ok: false; reason: string }> {
    try {
      return { ok: true, appId: await this.applicationId() };
    } catch (e) {
      return { ok: false, reason: errorMessage(e) };
    }
  }
}
