import * as fs from 'node:fs';
import * as path from 'node:path';

/** How a file is written. Every write is atomic (a reader sees the old or the new content, never half). */
export interface WriteFileOptions {
  /**
   * Also durable: the file and then its directory are fsynced, so the new content survives a crash of the
   * machine, not only of this process (state that is resumed from: the CDC store, checkpoints). Default false.
   */
  durable?: boolean;
  /** Permission bits of the new file (0o600 for files with secrets or pids); default 0o666 less the umask. */
  mode?: number;
}

/** Writes a file through a temp file in the same directory and a rename (see WriteFileOptions for `durable`). */
export function writeFileAtomic(file: string, content: string, opts: WriteFileOptions = {}): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', opts.mode);
  try {
    fs.writeSync(fd, content);
    if (opts.durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  if (opts.durable) {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }
}

/** JSON that keeps 64-bit integers exact: a bigint is written as its decimal digits (a string). */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent) + '\n';
}

/** Writes `value` as indented JSON (bigints as digits), atomically; `durable` and `mode` as in WriteFileOptions. */
export function writeJson(file: string, value: unknown, opts: WriteFileOptions = {}): void {
  writeFileAtomic(file, toJson(value), opts);
}

/** The parsed JSON of a file, or undefined when it is missing or not JSON (state files, optional reports). */
export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
