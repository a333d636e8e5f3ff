import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `jcmd <pid> <command...>`'s standard output, or null when jcmd is missing or fails. Asynchronous: a
 * measuring process keeps reading its own sockets while the JVM answers (an attach takes 0.1–0.5 s). */
async function jcmd(pid: number, ...command: string[]): Promise<string | null> {
  try {
    const { stdout } = await run('jcmd', [String(pid), ...command], { timeout: 60_000, maxBuffer: 64 * 2 ** 20 });
    return stdout;
  } catch {
    return null;
  }
}

/**
 * The live Java heap in MiB: the total of a class histogram, which a full GC counts inside its own pause.
 * Reading `GC.heap_info` after a separate `GC.run` also counted what a running job allocated between the two
 * attaches: at the end of a 10k readings/s stream run it read 405 MiB where the histogram read 162 MiB.
 */
export async function liveHeapMiB(pid: number): Promise<number | null> {
  const text = await jcmd(pid, 'GC.class_histogram');
  return text === null ? null : histogramTotalMiB(text);
}

/** MiB from the last line of `jcmd GC.class_histogram` ("Total <instances> <bytes>"), or null. */
export function histogramTotalMiB(text: string): number | null {
  const m = /^Total\s+\d+\s+(\d+)\s*$/m.exec(text);
  return m ? Math.round(Number(m[1]) / 2 ** 20) : null;
}

/**
 * What the JVM holds, in MiB, read without a GC or a pause: the heap's committed size and use and metaspace's
 * committed size (`GC.heap_info`), and the JIT's code cache in use (`Compiler.codecache`, all its code heaps).
 * Metaspace and the code cache grow with every class the server compiles (Spark generates classes at run time),
 * and both are in the RSS outside the heap. A figure its jcmd did not give is null.
 */
export interface JvmMemory {
  heapCommittedMiB: number | null;
  heapUsedMiB: number | null;
  metaspaceCommittedMiB: number | null;
  codeCacheUsedMiB: number | null;
}

export async function jvmMemory(pid: number): Promise<JvmMemory> {
  const [heap, code] = await Promise.all([jcmd(pid, 'GC.heap_info'), jcmd(pid, 'Compiler.codecache')]);
  return { ...parseHeapInfo(heap ?? ''), codeCacheUsedMiB: code === null ? null : parseCodeCache(code) };
}

/**
 * From `GC.heap_info`: " garbage-first heap   total 520192K, used 153111K [..." (G1 and Parallel print the same
 * words) and " Metaspace       used 180000K, committed 190000K, reserved 1245184K".
 */
export function parseHeapInfo(text: string): Omit<JvmMemory, 'codeCacheUsedMiB'> {
  const heap = /heap\s+total (\d+)K, used (\d+)K/.exec(text);
  const meta = /Metaspace\s+used \d+K, committed (\d+)K/.exec(text);
  const mib = (k: string | undefined) => (k === undefined ? null : Math.round(Number(k) / 1024));
  return { heapCommittedMiB: mib(heap?.[1]), heapUsedMiB: mib(heap?.[2]), metaspaceCommittedMiB: mib(meta?.[1]) };
}

/** From `Compiler.codecache`: the sum of every code heap's "used=NKb" (segmented or not), or null. */
export function parseCodeCache(text: string): number | null {
  const used = [...text.matchAll(/\bused=(\d+)Kb/g)].map((m) => Number(m[1]));
  return used.length ? Math.round(used.reduce((a, b) => a + b, 0) / 1024) : null;
}
