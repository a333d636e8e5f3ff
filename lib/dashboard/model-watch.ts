import fs from 'node:fs';
import type { ModelFile } from '../cdc/model-file';
import { summarizeModel, type ModelSummary } from './state';
import { errorMessage } from '../util/errors';

/** Reads model.json into the card's figures: absent, unreadable or not a model each say so. */
export function readModelSummary(file: string): ModelSummary {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return summarizeModel(
      file,
      undefined,
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no model.json yet (cdc-consume writes it)' : errorMessage(e),
    );
  }
  try {
    return summarizeModel(file, JSON.parse(text) as ModelFile);
  } catch (e) {
    return summarizeModel(file, undefined, `${file} is not JSON: ${errorMessage(e)}`);
  }
}

/** What identifies one version of the file: a rewrite or a rename changes it. */
function signature(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'absent';
  }
}

/**
 * Watches the CDC model.json and calls `onChange` with its summary at the start and on every change.
 * cdc-consume replaces the file by an atomic rename, which an inode watch (fs.watch) loses, so the path is
 * polled: one stat per interval, comparing inode, size and mtime with the version last read (taken before
 * the read, so a write during the read is seen at the next poll). A file that appears later is picked up.
 */
export function watchModel(file: string, onChange: (m: ModelSummary) => void, intervalMs = 500): () => void {
  let seen = signature(file);
  onChange(readModelSummary(file));
  const timer = setInterval(() => {
    const now = signature(file);
    if (now === seen) return;
    seen = now;
    onChange(readModelSummary(file));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
