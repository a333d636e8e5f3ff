import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeFeatures } from './features';
import type { ModelFile } from './model-file';
import { relativeDifference, ridgeFromRows, type RidgeModel } from './ridge';
import type { CdcState } from './state';
import { MODEL_FILE, StateStoreError } from './store';
import { errorMessage } from '../util/errors';

export const VERIFY_TOLERANCE = 1e-9;

export interface CoefficientCheck {
  feature: string;
  model: number;
  batch: number;
  rel_diff: number;
}

export interface VerifyResult {
  /** The batch refit from the table. */
  batch: RidgeModel;
  /** model.json against the batch refit, per coefficient (plus the intercept as '(intercept)'). */
  checks: CoefficientCheck[];
  max_rel_diff: number;
  /** The exact statistics in the store against the batch refit (model.json may lag the store). */
  store_max_rel_diff: number;
  /** model.json's offsets differ from the store's: it is behind the committed state. */
  stale: boolean;
  ok: boolean;
}

export function readModelFile(stateDir: string): ModelFile {
  const file = path.join(stateDir, MODEL_FILE);
  if (!fs.existsSync(file)) throw new StateStoreError(`no model at ${file}: run cdc-consume first (or give --state-dir)`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelFile;
  } catch (e) {
    throw new StateStoreError(`${file} is not valid JSON: ${errorMessage(e)}`);
  }
}

/** The labeled training rows of the table as plain feature vectors and labels. */
export function trainingData(state: CdcState): { xs: number[][]; ys: number[] } {
  const xs: number[][] = [];
  const ys: number[] = [];
  for (const { id, row } of state.liveEncoded()) {
    if (!state.isTraining(id) || row.y === null) continue;
    xs.push(decodeFeatures(row, state.config));
    ys.push(row.y);
  }
  return { xs, ys };
}

/** Refits the ridge model in batch from the table (two-pass float64) and compares it with model.json and the store. */
export function verifyModel(state: CdcState, offsets: Map<number, number>, model: ModelFile): VerifyResult {
  const { xs, ys } = trainingData(state);
  const batch = ridgeFromRows(xs, ys, model.lambda, state.config.features.length);
  const checks: CoefficientCheck[] = model.features.map((feature, j) => ({
    feature,
    model: model.coefficients[j],
    batch: batch.coefficients[j],
    rel_diff: relativeDifference(model.coefficients[j], batch.coefficients[j]),
  }));
  checks.push({
    feature: '(intercept)',
    model: model.intercept,
    batch: batch.intercept,
    rel_diff: relativeDifference(model.intercept, batch.intercept),
  });
  const sameFeatures = JSON.stringify(model.features) === JSON.stringify(state.config.features);
  const fromStore = state.model(model.lambda);
  const storeDiff = Math.max(
    relativeDifference(fromStore.intercept, batch.intercept),
    ...fromStore.coefficients.map((c, j) => relativeDifference(c, batch.coefficients[j])),
  );
  const storeOffsets = Object.fromEntries([...offsets].sort((a, b) => a[0] - b[0]).map(([p, o]) => [String(p), o]));
  const stale = JSON.stringify(storeOffsets) !== JSON.stringify(model.offsets) || model.n !== batch.n;
  const max = sameFeatures ? Math.max(...checks.map((c) => c.rel_diff)) : Infinity;
  return {
    batch,
    checks,
    max_rel_diff: max,
    store_max_rel_diff: storeDiff,
    stale,
    ok: !stale && max <= VERIFY_TOLERANCE && storeDiff <= VERIFY_TOLERANCE,
  };
}
