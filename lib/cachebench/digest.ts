import { createHash } from 'node:crypto';

/** One query's result, every value already rendered as text by Spark (CAST AS STRING), null kept as null. */
export interface QueryResult {
  query: string;
  columns: readonly string[];
  rows: ReadonlyArray<ReadonlyArray<string | null>>;
}

/**
 * The digest of a query mix's results: sha256 over each query's name, columns and rows, with the rows
 * sorted so that the order Spark returns them in (which differs between plans) does not matter.
 * Equal digests across modes show that every mode computed the same answers.
 */
export function resultDigest(results: readonly QueryResult[]): string {
  const hash = createHash('sha256');
  for (const r of results) {
    hash.update(JSON.stringify(['query', r.query, r.columns]));
    hash.update('\n');
    const lines = r.rows.map((row) => JSON.stringify(row)).sort();
    for (const line of lines) hash.update(line + '\n');
  }
  return hash.digest('hex');
}

/** Whether all digests are equal; an empty list is trivially consistent. */
export function digestsAgree(digests: ReadonlyArray<string | null>): boolean {
  const present = digests.filter((d): d is string => d !== null);
  return present.every((d) => d === present[0]);
}
