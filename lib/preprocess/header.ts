import * as fs from 'node:fs';
import { JobInputError } from '../util/errors';
import { INPUT_COLUMN_NAMES } from './schema';

/** Delimiters tried, in order, when none is given. */
export const CANDIDATE_DELIMITERS = ['\t', ',', ';', '|'] as const;

const DELIMITER_NAMES: Record<string, string> = { '\t': 'tab', ',': 'comma', ';': 'semicolon', '|': 'pipe' };

export interface InputLayout {
  delimiter: string;
  /** Column names in file order (each one of INPUT_COLUMN_NAMES, each exactly once). */
  columns: string[];
  lineEnding: 'CRLF' | 'LF';
  sizeBytes: number;
}

/** `--delimiter` value to the character: accepts the character itself or a name (tab, \t, comma, ...). */
export function parseDelimiterOption(value: string): string {
  const named: Record<string, string> = { tab: '\t', '\\t': '\t', comma: ',', semicolon: ';', pipe: '|' };
  const d = named[value.toLowerCase()] ?? value;
  if (d.length !== 1 || d === '"' || d === '\r' || d === '\n') {
    throw new JobInputError(`--delimiter must be one character (or tab, comma, semicolon, pipe), got ${JSON.stringify(value)}`);
  }
  return d;
}

export function describeDelimiter(d: string): string {
  return DELIMITER_NAMES[d] ?? JSON.stringify(d);
}

function splitHeader(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

function headerMismatch(found: string[], delimiter: string | undefined): string {
  const expected = INPUT_COLUMN_NAMES;
  const missing = expected.filter((c) => !found.includes(c));
  const extra = found.filter((c) => !expected.includes(c));
  const dups = found.filter((c, i) => found.indexOf(c) !== i);
  const parts = [
    delimiter === undefined
      ? `could not detect the delimiter (tried ${CANDIDATE_DELIMITERS.map(describeDelimiter).join(', ')}); pass --delimiter`
      : `the header does not match the expected columns (delimiter: ${describeDelimiter(delimiter)})`,
    `expected ${expected.length} columns: ${expected.join(', ')}`,
    `found ${found.length} columns: ${found.join(', ')}`,
  ];
  if (missing.length) parts.push(`missing: ${missing.join(', ')}`);
  if (extra.length) parts.push(`extra: ${extra.join(', ')}`);
  if (dups.length) parts.push(`repeated: ${dups.join(', ')}`);
  return parts.join('\n  ');
}

/**
 * Decides the header from its first line, given the delimiter or by trying the candidates. Pure, so the
 * rules are unit-tested; `inspectInput` reads the line.
 */
export function resolveHeader(firstLine: string, delimiter?: string): { delimiter: string; columns: string[] } {
  const line = firstLine.replace(/^\uFEFF/, '').replace(/\r$/, '');
  const matches = (cols: string[]): boolean =>
    cols.length === INPUT_COLUMN_NAMES.length && new Set(cols).size === cols.length && cols.every((c) => INPUT_COLUMN_NAMES.includes(c));
  if (delimiter !== undefined) {
    const cols = splitHeader(line, delimiter);
    if (!matches(cols)) throw new JobInputError(headerMismatch(cols, delimiter));
    return { delimiter, columns: cols };
  }
  for (const d of CANDIDATE_DELIMITERS) {
    const cols = splitHeader(line, d);
    if (matches(cols)) return { delimiter: d, columns: cols };
  }
  // No candidate gives the exact columns: report against the one that splits the line best, if any does.
  const best = CANDIDATE_DELIMITERS.map((d) => ({ d, cols: splitHeader(line, d) })).sort((a, b) => b.cols.length - a.cols.length)[0];
  if (best.cols.length > 1) throw new JobInputError(headerMismatch(best.cols, best.d));
  throw new JobInputError(headerMismatch([line], undefined));
}

/** Reads only the start of the file in Node: checks it exists, is not empty, and has a valid header. */
export function inspectInput(file: string, delimiter?: string): InputLayout {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new JobInputError(`input file not found: ${file}`);
  }
  if (!stat.isFile()) throw new JobInputError(`input is not a file: ${file}`);
  if (stat.size === 0) throw new JobInputError(`input file is empty: ${file}`);
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(Math.min(stat.size, 1 << 20));
    const n = fs.readSync(fd, chunk, 0, chunk.length, 0);
    const text = chunk.subarray(0, n).toString('utf8');
    const nl = text.indexOf('\n');
    const firstLine = nl < 0 ? text : text.slice(0, nl);
    if (firstLine.trim() === '') throw new JobInputError(`input file has an empty first line (expected a header): ${file}`);
    const { delimiter: d, columns } = resolveHeader(firstLine, delimiter);
    const rest = nl < 0 ? '' : text.slice(nl + 1);
    if (rest.trim() === '' && n === stat.size) throw new JobInputError(`input file has a header but no data rows: ${file}`);
    return { delimiter: d, columns, lineEnding: firstLine.endsWith('\r') ? 'CRLF' : 'LF', sizeBytes: stat.size };
  } finally {
    fs.closeSync(fd);
  }
}
