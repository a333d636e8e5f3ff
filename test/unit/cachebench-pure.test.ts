import { expect } from 'chai';
import { MODES, parseModes, levelName, describeLevel, SCALA_LEVELS, MODE_SPECS, sameFlags } from '../../lib/cachebench/modes';
import { resultDigest, digestsAgree, type QueryResult } from '../../lib/cachebench/digest';
import { summarizeIterations, speedup, perRow, ratio, checkCounts } from '../../lib/cachebench/measure';
import { workloadExpressions, WORKLOAD_COLUMNS, defaultPartitions, customerCount } from '../../lib/cachebench/workload';
import { QUERIES } from '../../lib/cachebench/queries';
import { cacheMarker } from '../../lib/cachebench/run';
import { StorageLevel } from '../../lib/connect';

describe('@unit cache-bench: modes, digest, measurement', () => {
  describe('parseModes', () => {
    it('defaults to every mode in the canonical order', () => {
      expect(parseModes(undefined)).to.deep.equal([...MODES]);
      expect(MODES).to.deep.equal(['none', 'MEMORY_ONLY', 'MEMORY_AND_DISK', 'MEMORY_ONLY_SER', 'DISK_ONLY', 'OFF_HEAP', 'parquet', 'csv']);
    });

    it('accepts any case and spaces, drops duplicates and keeps the canonical order', () => {
      expect(parseModes('csv, memory_only ,none,MEMORY_ONLY')).to.deep.equal(['none', 'MEMORY_ONLY', 'csv']);
      expect(parseModes(['disk_only', 'parquet'])).to.deep.equal(['DISK_ONLY', 'parquet']);
    });

    it('names unknown modes and lists the known ones', () => {
      expect(() => parseModes('none,MEMORY_ONLY_2,ssd')).to.throw(/unknown modes "MEMORY_ONLY_2", "ssd"; known modes: none, MEMORY_ONLY/);
      expect(() => parseModes('')).to.throw(/--modes is empty/);
      expect(() => parseModes(' , ')).to.throw(/--modes is empty/);
    });
  });

  describe('storage levels', () => {
    it('uses the Scala flags: MEMORY_ONLY deserialized, MEMORY_ONLY_SER serialized, OFF_HEAP off-heap + disk', () => {
      expect(MODE_SPECS.MEMORY_ONLY.level).to.include({ useMemory: true, useDisk: false, deserialized: true });
      expect(MODE_SPECS.MEMORY_ONLY_SER.level).to.include({ useMemory: true, useDisk: false, deserialized: false });
      expect(MODE_SPECS.MEMORY_AND_DISK.level).to.include({ useMemory: true, useDisk: true, deserialized: true });
      expect(MODE_SPECS.DISK_ONLY.level).to.include({ useMemory: false, useDisk: true, deserialized: false });
      expect(MODE_SPECS.OFF_HEAP.level).to.include({ useMemory: true, useDisk: true, useOffHeap: true, deserialized: false });
      for (const m of ['none', 'parquet', 'csv'] as const) expect(MODE_SPECS[m].level).to.equal(undefined);
    });

    it('agrees with the client StorageLevel constants where PySpark and Scala agree', () => {
      const flags = (l: StorageLevel) => ({ useDisk: l.useDisk, useMemory: l.useMemory, useOffHeap: l.useOffHeap, deserialized: l.deserialized, replication: l.replication });
      expect(sameFlags(SCALA_LEVELS.DISK_ONLY, flags(StorageLevel.DISK_ONLY))).to.equal(true);
      expect(sameFlags(SCALA_LEVELS.OFF_HEAP, flags(StorageLevel.OFF_HEAP))).to.equal(true);
      expect(sameFlags(SCALA_LEVELS.MEMORY_AND_DISK, flags(StorageLevel.MEMORY_AND_DISK_DESER))).to.equal(true);
      // PySpark's MEMORY_ONLY is serialized: Scala's MEMORY_ONLY_SER.
      expect(sameFlags(SCALA_LEVELS.MEMORY_ONLY_SER, flags(StorageLevel.MEMORY_ONLY))).to.equal(true);
    });

    it('names confirmed flags, and describes unknown ones as Spark does', () => {
      expect(levelName(SCALA_LEVELS.MEMORY_ONLY)).to.equal('MEMORY_ONLY');
      expect(levelName(SCALA_LEVELS.NONE)).to.equal('NONE');
      expect(levelName({ ...SCALA_LEVELS.MEMORY_ONLY, replication: 2 })).to.equal('Memory Deserialized 2x Replicated');
      expect(describeLevel(SCALA_LEVELS.OFF_HEAP)).to.equal('Disk Memory OffHeap Serialized 1x Replicated');
    });

    it('gives each mode a cache marker that is no prefix of another mode’s', () => {
      const markers = MODES.map((m) => cacheMarker('ab12cd34', m));
      for (const a of markers) for (const b of markers) if (a !== b) expect(b.includes(a)).to.equal(false, `${a} inside ${b}`);
    });
  });

  describe('resultDigest', () => {
    const results: QueryResult[] = [
      { query: 'q1', columns: ['k', 'n'], rows: [['a', '1'], ['b', '2'], [null, '3']] },
      { query: 'q2', columns: ['n'], rows: [['42']] },
    ];

    it('does not depend on row order', () => {
      const shuffled: QueryResult[] = [{ ...results[0], rows: [[null, '3'], ['b', '2'], ['a', '1']] }, results[1]];
      expect(resultDigest(shuffled)).to.equal(resultDigest(results));
      expect(resultDigest(results)).to.match(/^[0-9a-f]{64}$/);
    });

    it('changes with any value, a null, a column name or a moved row', () => {
      const base = resultDigest(results);
      const variants: QueryResult[][] = [
        [{ ...results[0], rows: [['a', '1'], ['b', '2'], [null, '4']] }, results[1]],
        [{ ...results[0], rows: [['a', '1'], ['b', '2'], ['null', '3']] }, results[1]],
        [{ ...results[0], columns: ['k', 'count'] }, results[1]],
        // the same rows split differently between queries
        [{ ...results[0], rows: results[0].rows.slice(0, 2) }, { ...results[1], rows: [['42'], [null, '3']] }],
      ];
      for (const v of variants) expect(resultDigest(v)).to.not.equal(base);
    });

    it('digestsAgree ignores missing digests and needs all present ones equal', () => {
      expect(digestsAgree(['x', null, 'x'])).to.equal(true);
      expect(digestsAgree(['x', 'y'])).to.equal(false);
      expect(digestsAgree([])).to.equal(true);
    });
  });

  describe('measurement', () => {
    it('separates the first iteration (materialization) from median and p95 of the rest', () => {
      expect(summarizeIterations([900, 100, 300, 200])).to.deep.equal({ first_ms: 900, median_ms: 200, p95_ms: 290, min_ms: 100 });
      expect(summarizeIterations([123.456])).to.deep.equal({ first_ms: 123.5, median_ms: null, p95_ms: null, min_ms: null });
      expect(summarizeIterations([])).to.deep.equal({ first_ms: null, median_ms: null, p95_ms: null, min_ms: null });
    });

    it('speedup is baseline median over mode median; first times with one iteration; null without a baseline', () => {
      const none = { first_ms: 1000, median_ms: 800, p95_ms: 900, min_ms: 600 };
      expect(speedup({ first_ms: 2000, median_ms: 200, p95_ms: 250, min_ms: 150 }, none)).to.equal(4);
      expect(speedup({ first_ms: 2000, median_ms: 200, p95_ms: 250, min_ms: 150 }, none, 'min')).to.equal(4);
      expect(speedup({ first_ms: 2000, median_ms: 400, p95_ms: 250, min_ms: 120 }, none, 'min')).to.equal(5);
      expect(speedup(none, none)).to.equal(1);
      expect(speedup({ first_ms: 500, median_ms: null, p95_ms: null, min_ms: null }, { first_ms: 1000, median_ms: null, p95_ms: null, min_ms: null })).to.equal(2);
      expect(speedup({ first_ms: 500, median_ms: 100, p95_ms: 100, min_ms: 100 }, undefined)).to.equal(null);
    });

    it('keeps null as null in sizes and ratios: never 0 for "not measured"', () => {
      expect(perRow(null, 1000)).to.equal(null);
      expect(perRow(0, 1000)).to.equal(0);
      expect(perRow(29_170, 1000)).to.equal(29.17);
      expect(ratio(null, 10)).to.equal(null);
      expect(ratio(10, null)).to.equal(null);
      expect(ratio(10, 0)).to.equal(null);
      expect(ratio(583_304, 437_702)).to.equal(1.333);
    });

    it('rejects zero, negative, fractional and non-numeric counts with the flag named', () => {
      expect(checkCounts(10, 2)).to.equal(undefined);
      expect(checkCounts(0, 2)).to.match(/--rows must be a positive integer .* got 0/);
      expect(checkCounts(-5, 2)).to.match(/--rows .* got -5/);
      expect(checkCounts(1.5, 2)).to.match(/--rows .* got 1.5/);
      expect(checkCounts(NaN, 2)).to.match(/--rows .* got a value that is not a number/);
      expect(checkCounts(10, 0)).to.match(/--iterations must be a positive integer .* got 0/);
    });
  });

  describe('workload and queries', () => {
    it('seeds every random expression, each with its own seed, and derives them from --seed', () => {
      const a = workloadExpressions({ rows: 1000, seed: 42 });
      const b = workloadExpressions({ rows: 1000, seed: 7 });
      const seedsOf = (e: Record<string, string>) => Object.values(e).flatMap((sql) => [...sql.matchAll(/rand[n]?\((\d+)\)/g)].map((m) => Number(m[1])));
      expect(seedsOf(a)).to.have.length(Object.keys(a).length);
      expect(new Set(seedsOf(a)).size).to.equal(seedsOf(a).length);
      expect(seedsOf(a).every((s) => s > 42)).to.equal(true);
      expect(seedsOf(b)).to.not.deep.equal(seedsOf(a));
      expect(Object.values(a).join(' ')).to.not.match(/rand[n]?\(\)/);
    });

    it('generates every schema column, and aggregates exact types only (sums over decimals and integers)', () => {
      expect(['id', ...Object.keys(workloadExpressions({ rows: 10, seed: 1 }))]).to.deep.equal(WORKLOAD_COLUMNS);
      expect(workloadExpressions({ rows: 10, seed: 1 }).amount).to.match(/AS DECIMAL\(12,2\)/);
    });

    it('fixes partitions and customers from the row count', () => {
      expect(defaultPartitions(200_000)).to.equal(2);
      expect(defaultPartitions(10_000_000)).to.equal(8);
      expect(defaultPartitions(1e9)).to.equal(16);
      expect(customerCount(10)).to.equal(1);
      expect(customerCount(10_000_000)).to.equal(500_000);
    });

    it('runs the five queries the issue names, each with declared result columns', () => {
      expect(QUERIES.map((q) => q.name)).to.deep.equal(['group_agg', 'filter_count', 'join_dimension', 'window_top_n', 'distinct_count']);
      for (const q of QUERIES) expect(q.columns.length).to.be.greaterThan(0);
    });
  });
});
