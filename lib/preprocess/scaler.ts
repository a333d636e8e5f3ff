/**
 * DIR/scaler.json: the fitted scaling parameters, so the streaming and CDC parts scale new rows exactly as
 * the batch output was scaled.
 *   <col>_norm = (x - min) / (max - min), and 0 when max = min
 *   <col>_std  = (x - mean) / sd, with the population sd, and 0 when sd = 0
 */
export interface ColumnScale {
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (divides by n). */
  sd: number;
}

export interface ScalerFile {
  version: 1;
  /** The date Age and Tenure_Days are measured at (the latest Dt_Customer), yyyy-MM-dd. */
  reference_date: string;
  /** Rows the parameters were fitted on. */
  rows: number;
  norm_suffix: '_norm';
  std_suffix: '_std';
  columns: Record<string, ColumnScale>;
}

export function buildScaler(referenceDate: string, rows: number, columns: Record<string, ColumnScale>): ScalerFile {
  return { version: 1, reference_date: referenceDate, rows, norm_suffix: '_norm', std_suffix: '_std', columns };
}

export function normalize(x: number, p: ColumnScale): number {
  return p.max === p.min ? 0 : (x - p.min) / (p.max - p.min);
}

export function standardize(x: number, p: ColumnScale): number {
  return p.sd === 0 ? 0 : (x - p.mean) / p.sd;
}

/** Parses and checks a scaler.json text; throws with the path of the first bad field. */
export function parseScaler(text: string): ScalerFile {
  const v = JSON.parse(text) as Partial<ScalerFile>;
  if (v.version !== 1) throw new Error(`scaler.json: unsupported version ${String(v.version)}`);
  if (typeof v.reference_date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v.reference_date))
    throw new Error('scaler.json: reference_date must be yyyy-MM-dd');
  if (typeof v.rows !== 'number') throw new Error('scaler.json: rows must be a number');
  if (!v.columns || typeof v.columns !== 'object') throw new Error('scaler.json: columns missing');
  for (const [name, p] of Object.entries(v.columns)) {
    for (const k of ['min', 'max', 'mean', 'sd'] as const) {
      if (typeof p?.[k] !== 'number' || !Number.isFinite(p[k]))
        throw new Error(`scaler.json: columns.${name}.${k} must be a finite number`);
    }
    if (p.max < p.min) throw new Error(`scaler.json: columns.${name}: max < min`);
    if (p.sd < 0) throw new Error(`scaler.json: columns.${name}: sd < 0`);
  }
  return v as ScalerFile;
}
