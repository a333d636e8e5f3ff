import { writeFileAtomic as write } from '../util/json';

/**
 * Writes a file so readers see the old or the new content, never a torn one, and so it survives a crash of the
 * machine: temp file, fsync, rename, fsync dir (lib/util/json.ts with `durable`).
 */
export function writeFileAtomic(file: string, content: string): void {
  write(file, content, { durable: true });
}
