import * as fs from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';

/** Spark's data files in a written directory, in partition order (part-00000-..., part-00001-...). */
export function partFiles(dir: string, ext: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('part-') && f.endsWith(ext))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Concatenates a Spark output directory's part files, in partition order, after an optional header, into
 * one file (written to a temp name, then renamed), and removes the directory.
 */
export async function concatParts(dir: string, ext: string, dest: string, header?: string): Promise<number> {
  const parts = partFiles(dir, ext);
  const tmp = `${dest}.${process.pid}.tmp`;
  const out = fs.createWriteStream(tmp);
  try {
    if (header !== undefined) await new Promise<void>((resolve, reject) => out.write(header, (err) => (err ? reject(err) : resolve())));
    for (const p of parts) {
      for await (const chunk of fs.createReadStream(p, { highWaterMark: 1 << 20 })) {
        if (!out.write(chunk)) await once(out, 'drain'); // once() removes its listeners, unlike pipeline(end: false)
      }
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  } catch (err) {
    out.destroy();
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.renameSync(tmp, dest);
  fs.rmSync(dir, { recursive: true, force: true });
  return parts.length;
}

/** Moves the one part file of a `coalesce(1)` write to `dest` and removes the directory. */
export function moveSinglePart(dir: string, ext: string, dest: string): void {
  const parts = partFiles(dir, ext);
  if (parts.length !== 1) throw new Error(`expected one ${ext} part file in ${dir}, found ${parts.length}`);
  fs.renameSync(parts[0], dest);
  fs.rmSync(dir, { recursive: true, force: true });
}
