import { expect } from 'chai';
import { MODES, parseModes, levelName, describeLevel, SCALA_LEVELS, MODE_SPECS, sameFlags } from '../../lib/cachebench/modes';
import { resultDigest, digestsAgree, type QueryResult } from '../../lib/cachebench/digest';
import { summarizeIterations, speedup, perRow, ratio, checkCounts, breakEvenQueries, steadyState } from '../../lib/cachebench/measure';
import { SEGMENT_ROWS } from '../../lib/cachebench/workload';
import { QUERIES, ROW_COUNT } from '../../lib/cachebench/queries';
import { cacheMarker, overflowOf } from '../../lib/cachebench/run';
import { AGE_GROUPS } from '../../lib/preprocess/rules';
import { StorageLevel } from '../../lib/connect';

describe('cache-bench: modes, digest, measurement', () => {
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
      const flags = (l: StorageLevel) => ({
        useDisk: l.useDisk,
        useMemory: l.useMemory,
        useOffHeap: l.useOffHeap,
        deserialized: l.deserialized,
        replication: l.replication,
      });
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
      {
        query: 'q1',
        columns: ['k', 'n'],
        rows: [
          ['a', '1'],
          ['b', '2'],
          [null, '3'],
        ],
      },
      { query: 'q2', columns: ['n'], rows: [['42']] },
    ];

    it('does not depend on row order', () => {
      const shuffled: QueryResult[] = [
        {
          ...results[0],
          rows: [
            [null, '3'],
            ['b', '2'],
            ['a', '1'],
          ],
        },
        results[1],
      ];
      expect(resultDigest(shuffled)).to.equal(resultDigest(results));
      expect(resultDigest(results)).to.match(/^[0-9a-f]{64}$/);
    });

    it('changes with any value, a null, a column name or a moved row', () => {
      const base = resultDigest(results);
      const variants: QueryResult[][] = [
        [
          {
            ...results[0],
            rows: [
              ['a', '1'],
              ['b', '2'],
              [null, '4'],
            ],
          },
          results[1],
        ],
        [
          {
            ...results[0],
            rows: [
              ['a', '1'],
              ['b', '2'],
              ['null', '3'],
            ],
          },
          results[1],
        ],
        [{ ...results[0], columns: ['k', 'count'] }, results[1]],
        // the same rows split differently between queries
        [
          { ...results[0], rows: results[0].rows.slice(0, 2) },
          { ...results[1], rows: [['42'], [null, '3']] },
        ],
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
      expect(
        speedup(
          { first_ms: 500, median_ms: null, p95_ms: null, min_ms: null },
          { first_ms: 1000, median_ms: null, p95_ms: null, min_ms: null },
        ),
      ).to.equal(2);
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

  describe('break-even', () => {
    it('is the first query count where setup + n × per-query time is at most n × the baseline per-query time', () => {
      // 9 s to fill, 1 s per query instead of 4 s: 3 s saved per query, paid back after 3 queries.
      expect(breakEvenQueries(9000, 1000, 4000)).to.equal(3);
      // Not a whole number of savings: the next query (10 s / 3 s = 3.33 -> 4).
      expect(breakEvenQueries(10_000, 1000, 4000)).to.equal(4);
      const n = breakEvenQueries(10_000, 1000, 4000) as number;
      expect(10_000 + n * 1000).to.be.at.most(n * 4000);
      expect(10_000 + (n - 1) * 1000).to.be.greaterThan((n - 1) * 4000);
    });

    it('is 1 when holding costs nothing (or the first mix was faster than a steady one), never below', () => {
      expect(breakEvenQueries(0, 1000, 4000)).to.equal(1);
      expect(breakEvenQueries(-500, 1000, 4000)).to.equal(1);
    });

    it('is null when holding never pays (not faster per query) or a figure is missing', () => {
      expect(breakEvenQueries(1000, 4000, 4000)).to.equal(null);
      expect(breakEvenQueries(1000, 5000, 4000)).to.equal(null);
      expect(breakEvenQueries(null, 1000, 4000)).to.equal(null);
      expect(breakEvenQueries(1000, null, 4000)).to.equal(null);
      expect(breakEvenQueries(1000, 1000, null)).to.equal(null);
    });

    it('steady state of one query leaves out its first (cache-filling) run', () => {
      expect(steadyState([5000, 100, 300, 200])).to.deep.equal({ median_ms: 200, p95_ms: 290 });
      expect(steadyState([5000])).to.deep.equal({ median_ms: null, p95_ms: null });
    });
  });

  describe('what Spark does with what does not fit', () => {
    it('MEMORY_ONLY with missing partitions recomputes them; MEMORY_AND_DISK with disk bytes spilled; all cached in memory fits', () => {
      expect(overflowOf(SCALA_LEVELS.MEMORY_ONLY, 6, 8, 0)).to.deep.equal({ fits: false, overflow: 'recomputed' });
      expect(overflowOf(SCALA_LEVELS.MEMORY_AND_DISK, 8, 8, 1234)).to.deep.equal({ fits: false, overflow: 'spilled to disk' });
      expect(overflowOf(SCALA_LEVELS.OFF_HEAP, 8, 8, 1)).to.deep.equal({ fits: false, overflow: 'spilled to disk' });
      expect(overflowOf(SCALA_LEVELS.MEMORY_AND_DISK, 8, 8, 0)).to.deep.equal({ fits: true, overflow: null });
      // DISK_ONLY is on disk by design: that is no overflow.
      expect(overflowOf(SCALA_LEVELS.DISK_ONLY, 8, 8, 1234)).to.deep.equal({ fits: true, overflow: null });
      expect(overflowOf(SCALA_LEVELS.MEMORY_ONLY, null, 8, 0)).to.deep.equal({ fits: null, overflow: null });
    });
  });

  describe('workload and queries', () => {
    it('has one segment per (age group, parent or not): the join keeps every row', () => {
      expect(SEGMENT_ROWS).to.have.length(AGE_GROUPS.length * 2);
      const keys = SEGMENT_ROWS.map(([g, p]) => `${g}/${p}`);
      expect(new Set(keys).size).to.equal(keys.length);
      for (const g of AGE_GROUPS) for (const p of [0, 1]) expect(keys).to.include(`${g.label}/${p}`);
    });

    it('runs an analyst mix, each query with declared result columns, one of them counting the held rows', () => {
      expect(QUERIES.map((q) => q.name)).to.deep.equal([
        'spend_by_segment',
        'campaign_acceptance',
        'top_customers',
        'cohort_by_month',
        'channel_mix',
        'distinct_counts',
        'selective_filters',
      ]);
      for (const q of QUERIES) expect(q.columns.length).to.be.greaterThan(0);
      expect(QUERIES.find((q) => q.name === ROW_COUNT.query)?.columns).to.include(ROW_COUNT.column);
      // The top-N is a bounded aggregate, not a window over (a sort of) every row.
      expect(QUERIES.find((q) => q.name === 'top_customers')?.describe).to.match(/max_by/);
    });
  });
});
