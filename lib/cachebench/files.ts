import * as fs from 'node:fs';
import * as path from 'node:path';
import { functions as F, type SparkSession } from '../connect';

/** Bytes of the data files (by extension) under a directory, walked locally; null when it is not visible here. */
export function localDataBytes(dir: string, ext: string): number | null {
  if (!fs.existsSync(dir)) return null;
  let total = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(ext) && !e.name.startsWith('.')) total += fs.statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

/**
 * Bytes of the data files under a directory as the Spark server sees them (the binaryFile source lists files
 * with their lengths; the content column is not read). For a server on another machine.
 */
export async function serverDataBytes(spark: SparkSession, dir: string, ext: string): Promise<number | null> {
  const row = await spark.read
    .format('binaryFile')
    .option('pathGlobFilter', `*${ext}`)
    .option('recursiveFileLookup', true)
    .load(dir)
    .agg(F.sum('length').alias('bytes'))
    .first();
  const v = row?.bytes;
  return v === null || v === undefined ? null : Number(v);
}

/** The size of a baseline's data files: locally when the directory is visible, else through the server. */
export async function dataBytes(spark: SparkSession, dir: string, ext: string): Promise<number | null> {
  return localDataBytes(dir, ext) ?? (await serverDataBytes(spark, dir, ext));
}
