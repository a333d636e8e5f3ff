import fs from 'node:fs';
import type { ModelFile } from '../cdc/model-file';
import { summarizeModel, type ModelSummary } from './state';

/** Reads model.json into the card's figures: absent, unreadable or not a model each say so. */
export function readModelSummary(file: string): ModelSummary {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return summarizeModel(file, undefined, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no model.json yet (cdc-consume writes it)' : (e as Error).message);
  }
  try {
    return summarizeModel(file, JSON.parse(text) as ModelFile);
  } catch (e) {
    return summarizeModel(file, undefined, `${file} is not JSON: ${(e as Error).message}`);
  }
}

/**
 * Watches the CDC model.json and calls `onChange` with its summary at the start and on every change.
 * cdc-consume replaces the file by an atomic rename, which an inode watch (fs.watch) loses; stat polling
 * (fs.watchFile) follows the path, costs one stat per interval and sees a file that appears later.
 */
export function watchModel(file: string, onChange: (m: ModelSummary) => void, intervalMs = 500): () => void {
  onChange(readModelSummary(file));
  const listener = (curr: fs.Stats, prev: fs.Stats) => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size || curr.ino !== prev.ino) onChange(readModelSummary(file));
  };
  fs.watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => fs.unwatchFile(file, listener);
}
