import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { toCsv, toJson, renderTable, renderMarkdownTable, renderSvg, seriesChartSpec, siblingPath, writeJson } from '../../lib/report';
import {
  parseApplications,
  parseStorageRdds,
  parseStorageCapacity,
  totals,
  SparkRestClient,
  locateSparkUi,
  uiUrlCandidates,
} from '../../lib/cachebench/rest';
import {
  csvRows,
  CSV_COLUMNS,
  renderReportTable,
  renderReportMarkdown,
  renderQueryTable,
  reportNotes,
  writeReport,
  iterationChartSpec,
  speedupBytesChartSpec,
} from '../../lib/cachebench/report';
import type { CacheBenchReport, ModeResult } from '../../lib/cachebench/run';
import { scalingRows, renderScalingTable, scalingMemoryChartSpec, scalingTimeChartSpec } from '../../lib/cachebench/scaling';

function mode(m: Partial<ModeResult> & Pick<ModeResult, 'mode'>): ModeResult {
  return {
    storage_level: 'NONE',
    storage_level_flags: 'Serialized 1x Replicated',
    first_ms: 1000,
    median_ms: 800,
    p95_ms: 900,
    min_ms: 800,
    speedup: 1,
    speedup_min: 1,
    memory_bytes: 0,
    disk_bytes: 0,
    off_heap_bytes: null,
    stored_in: 'nothing',
    stored_bytes: 0,
    bytes_per_row: 0,
    ratio_to_parquet: 0,
    ratio_to_csv: 0,
    memory_bytes_per_row: 0,
    disk_bytes_per_row: 0,
    fits: null,
    overflow: null,
    cached_partitions: null,
    total_partitions: null,
    storage_freed: null,
    result_digest: 'ab'.repeat(32),
    digest_stable: true,
    iterations_ms: [1000, 800, 900],
    load_average: [0.5, 0.7, 0.6],
    query_ms: { spend_by_segment: [1, 2, 3] },
    query_stats: { spend_by_segment: { median_ms: 2.5, p95_ms: 3 } },
    setup_ms: 0,
    break_even_queries: null,
    skipped: null,
    error: null,
    ...m,
  };
}

function sampleReport(): CacheBenchReport {
  return {
    benchmark: 'cache-bench',
    run_id: 'ab12cd34',
    cache_marker: 'cachebench[ab12cd34/',
    created_at: '2026-11-23T23:00:00.000Z',
    rows: 1000,
    iterations: 3,
    seed: 42,
    partitions: 2,
    machine: {
      cores: 2,
      memory_bytes: 1 << 30,
      cpu_model: 'cpu',
      os: 'Linux',
      java: '17',
      node: '20',
      spark: '4.0.0',
      kafka: '4.4.0',
      spark_version: '4.0.0',
      spark_master: 'local[*]',
      off_heap: '1g',
      storage_memory_on_heap_bytes: 2e9,
      storage_memory_off_heap_bytes: 1 << 30,
    },
    rest_api: { url: 'http://127.0.0.1:4040', reachable: true, app_id: 'local-1', reason: null },
    workload: {
      source: 'test',
      rows_generated: 1000,
      ledger: { rows_read: 1000, rows_quarantined: 10, duplicates_removed: 80, duplicate_ids_removed: 5, rows_held: 905 },
      input_bytes: 150_000,
      generate_ms: 100,
      preprocess_ms: 200,
      columns: 2,
      schema: 'ID INT, Total_Spend INT',
      segments: 8,
      queries: [{ name: 'spend_by_segment', describe: 'spend' }],
    },
    baselines: { parquet_bytes: 20_000, csv_bytes: 70_000, parquet_write_ms: 10, csv_write_ms: 20, work_dir: '/tmp/x', kept: false },
    modes: [
      mode({ mode: 'none' }),
      mode({
        mode: 'MEMORY_ONLY',
        storage_level: 'MEMORY_ONLY',
        stored_in: 'cache',
        iterations_ms: [2000, 200, 210],
        first_ms: 2000,
        median_ms: 205,
        speedup: 3.9,
        memory_bytes: 29_000,
        stored_bytes: 29_000,
        bytes_per_row: 29,
        ratio_to_parquet: 1.45,
        cached_partitions: 1,
        total_partitions: 2,
        storage_freed: true,
        setup_ms: 1795,
        break_even_queries: 3,
        fits: false,
        overflow: 'recomputed',
      }),
      mode({
        mode: 'OFF_HEAP',
        storage_level: null,
        iterations_ms: [],
        first_ms: null,
        median_ms: null,
        p95_ms: null,
        min_ms: null,
        speedup: null,
        speedup_min: null,
        memory_bytes: null,
        disk_bytes: null,
        stored_bytes: null,
        bytes_per_row: null,
        ratio_to_parquet: null,
        result_digest: null,
        digest_stable: null,
        skipped: 'off-heap storage is disabled',
      }),
    ],
    load_average: { start: 0.5, end: 0.7 },
    digests_equal: true,
    leftover_cached_rdds: 0,
  };
}

describe('cache-bench: REST reader, report files, chart and table', () => {
  describe('Spark monitoring REST API parsing', () => {
    it('puts the live application first', () => {
      const apps = parseApplications([
        { id: 'old', name: 'a', attempts: [{ completed: true, startTimeEpoch: 5, appSparkVersion: '4.0.0' }] },
        { id: 'live', name: 'b', attempts: [{ completed: false, startTimeEpoch: 1, appSparkVersion: '4.0.0' }] },
      ]);
      expect(apps.map((a) => a.id)).to.deep.equal(['live', 'old']);
      expect(apps[0].sparkVersion).to.equal('4.0.0');
    });

    it('reads cached RDDs with memory, disk and the on/off-heap split, and adds them up', () => {
      const rdds = parseStorageRdds([
        {
          id: 7,
          name: '*(1) Project [cachebench[x/OFF_HEAP] AS bench_run#1]',
          numPartitions: 2,
          numCachedPartitions: 2,
          storageLevel: 'Disk Memory OffHeap Serialized 1x Replicated',
          memoryUsed: 100,
          diskUsed: 0,
          dataDistribution: [{ onHeapMemoryUsed: 0, offHeapMemoryUsed: 100 }],
        },
        {
          id: 8,
          name: 'other',
          numPartitions: 4,
          numCachedPartitions: 3,
          storageLevel: 'Disk Serialized 1x Replicated',
          memoryUsed: 0,
          diskUsed: 50,
        },
      ]);
      expect(rdds[0]).to.include({ id: 7, memoryUsed: 100, offHeapMemoryUsed: 100, onHeapMemoryUsed: 0 });
      expect(rdds[1].offHeapMemoryUsed).to.equal(null);
      expect(totals(rdds)).to.deep.equal({
        rdds: 2,
        numPartitions: 6,
        numCachedPartitions: 5,
        memoryBytes: 100,
        diskBytes: 50,
        offHeapBytes: null,
      });
      expect(totals([])).to.deep.equal({
        rdds: 0,
        numPartitions: 0,
        numCachedPartitions: 0,
        memoryBytes: 0,
        diskBytes: 0,
        offHeapBytes: 0,
      });
    });

    it('reads the storage capacity of the active executors', () => {
      expect(
        parseStorageCapacity([
          { id: 'driver', isActive: true, memoryMetrics: { totalOnHeapStorageMemory: 10, totalOffHeapStorageMemory: 4 } },
        ]),
      ).to.deep.equal({ onHeapBytes: 10, offHeapBytes: 4 });
      expect(parseStorageCapacity([{ id: 'driver' }])).to.deep.equal({ onHeapBytes: null, offHeapBytes: null });
    });

    it('rejects answers of the wrong shape', () => {
      expect(() => parseStorageRdds({ message: 'no such app' })).to.throw(/unexpected \/storage\/rdd answer/);
      expect(() => parseApplications('html')).to.throw(/unexpected \/applications answer/);
    });

    it('looks for the UI: an explicit address alone; else env, server state, then the ports Spark moves to when 4040 is taken', () => {
      expect(uiUrlCandidates('http://h:1/')).to.deep.equal(['http://h:1']);
      const all = uiUrlCandidates(undefined, 'http://env:2', 'http://127.0.0.1:4042');
      expect(all.slice(0, 4)).to.deep.equal(['http://env:2', 'http://127.0.0.1:4042', 'http://127.0.0.1:4040', 'http://127.0.0.1:4041']);
      expect(all).to.have.length(2 + 16); // 4042 appears once
      expect(all.at(-1)).to.equal('http://127.0.0.1:4056');
    });

    describe('with two UIs on the machine (local HTTP servers answering /api/v1/applications)', () => {
      const servers: http.Server[] = [];
      const urls: string[] = [];
      const app = (id: string) => [{ id, name: 'spark-ts', attempts: [{ completed: false, startTimeEpoch: 1, appSparkVersion: '4.2.0' }] }];
      before(async () => {
        for (const id of ['local-other', 'local-mine']) {
          const server = http.createServer((req, res) => {
            if (req.url === '/api/v1/applications') {
              res.setHeader('content-type', 'application/json');
              res.end(JSON.stringify(app(id)));
            } else {
              res.statusCode = 404;
              res.end();
            }
          });
          await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
          servers.push(server);
          urls.push(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
        }
      });
      after(() => servers.forEach((s) => s.close()));

      it("uses the UI that serves this server's application, not the first one that answers", async () => {
        expect(await locateSparkUi('local-mine', ['http://127.0.0.1:9', ...urls])).to.equal(urls[1]);
        expect(await locateSparkUi('local-other', urls)).to.equal(urls[0]);
        // An explicit address is used as given; without an app id, the first candidate.
        expect(await locateSparkUi('local-mine', [urls[0]])).to.equal(urls[0]);
        expect(await locateSparkUi(null, urls)).to.equal(urls[0]);
      });

      it("refuses a UI that serves another application, saying so (its figures would be another server's)", async () => {
        const probe = await new SparkRestClient(urls[0], 2000, 'local-mine').probe();
        expect(probe.ok).to.equal(false);
        if (!probe.ok) expect(probe.reason).to.match(/serves local-other, not this server's application local-mine/);
        expect(await new SparkRestClient(urls[1], 2000, 'local-mine').probe()).to.deep.equal({ ok: true, appId: 'local-mine' });
      });
    });

    it('says an unreachable UI cannot be reached, naming the address (no server needed: a closed port)', async () => {
      const probe = await new SparkRestClient('http://127.0.0.1:9', 2000).probe();
      expect(probe.ok).to.equal(false);
      if (!probe.ok) expect(probe.reason).to.match(/http:\/\/127\.0\.0\.1:9\/api\/v1\/applications cannot be reached/);
    });
  });

  describe('lib/report helpers', () => {
    it('writes CSV through csv-stringify: header, quoting, empty cells for null, exact bigints', () => {
      const text = toCsv([
        { a: 'x,y', b: null, c: 12345678901234567890n, d: true },
        { a: 'line\nbreak', b: 1.5, c: undefined, d: false },
      ]);
      expect(text).to.equal('a,b,c,d\n"x,y",,12345678901234567890,true\n"line\nbreak",1.5,,false\n');
      expect(toCsv([{ a: 1, b: 2 }], ['b'])).to.equal('b\n2\n');
    });

    it('writes JSON atomically with bigints as exact digits', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `report-${randomUUID()}-`));
      try {
        const file = path.join(dir, 'sub', 'r.json');
        writeJson(file, { n: 9007199254740993n });
        expect(JSON.parse(fs.readFileSync(file, 'utf8'))).to.deep.equal({ n: '9007199254740993' });
        expect(fs.readdirSync(path.dirname(file))).to.deep.equal(['r.json']);
        expect(toJson({ a: 1 }, 0)).to.equal('{"a":1}\n');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('derives sibling paths', () => {
      expect(siblingPath('reports/cache-bench.json', 'csv')).to.equal(path.join('reports', 'cache-bench.csv'));
      expect(siblingPath('/a/b.c.json', '.svg')).to.equal('/a/b.c.svg');
    });

    it('prints a table where a missing value shows as — and never as 0', () => {
      const text = renderTable(
        ['mode', 'memory'],
        [
          ['none', 0],
          ['OFF_HEAP', null],
        ],
        { plain: true, alignRight: [1] },
      );
      expect(text).to.match(/none\s+│\s+0 │/);
      expect(text).to.match(/OFF_HEAP\s+│\s+— │/);
    });

    it('prints Markdown tables with right-aligned numbers, escaped pipes and — for missing values', () => {
      expect(
        renderMarkdownTable(
          ['a', 'n'],
          [
            ['x|y', 1],
            ['z', null],
          ],
          { alignRight: [1] },
        ),
      ).to.equal('| a | n |\n| --- | ---: |\n| x\\|y | 1 |\n| z | — |\n');
    });

    it('renders a series chart to SVG in Node, leaving null points out and giving integer x ticks only', async () => {
      const spec = seriesChartSpec(
        [
          { series: 'a', x: 1, y: 10 },
          { series: 'a', x: 2, y: 5 },
          { series: 'b', x: 1, y: 20 },
          { series: 'b', x: 2, y: null },
        ],
        { title: 'T', xTitle: 'iteration', yTitle: 'ms' },
      );
      expect((spec as { data: { values: unknown[] } }).data.values).to.have.length(3);
      const svg = await renderSvg(spec);
      expect(svg.startsWith('<svg')).to.equal(true);
      const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      expect(texts).to.include.members(['T', 'iteration', 'ms', 'a', 'b', '1', '2']);
      expect(texts).to.not.include('1.5');
      expect((svg.match(/class="mark-line/g) ?? []).length).to.equal(2);
    });

    it('renders grouped bars too', async () => {
      const svg = await renderSvg(
        seriesChartSpec(
          [
            { series: 'a', x: 'p50', y: 1 },
            { series: 'b', x: 'p50', y: 2 },
          ],
          { title: 'B', xTitle: 'x', yTitle: 'y', mark: 'bar' },
        ),
      );
      expect(svg).to.match(/class="mark-rect/);
    });
  });

  describe('cache-bench report', () => {
    it('has the issue’s fields first in the CSV, one row per mode, null as an empty cell', () => {
      expect(CSV_COLUMNS.slice(0, 10)).to.deep.equal([
        'mode',
        'storage_level',
        'first_ms',
        'median_ms',
        'p95_ms',
        'speedup',
        'memory_bytes',
        'disk_bytes',
        'bytes_per_row',
        'result_digest',
      ]);
      const rows = csvRows(sampleReport());
      expect(rows.map((r) => r.mode)).to.deep.equal(['none', 'MEMORY_ONLY', 'OFF_HEAP']);
      expect(rows[2].memory_bytes).to.equal(null);
    });

    it('prints every mode, marks a skipped one, and shows unmeasured sizes as —', () => {
      const text = renderReportTable(sampleReport(), true);
      expect(text).to.match(/MEMORY_ONLY\s+│ MEMORY_ONLY\s+│\s+2,000 │\s+205 │/);
      expect(text).to.match(/3\.90×/);
      expect(text).to.match(/OFF_HEAP\s+│ skipped\s+│\s+— │/);
      expect(text).to.match(/3\.90×\s+│\s+3 │/);
    });

    it('prints each query’s steady-state median / p95 by mode that ran', () => {
      const text = renderQueryTable(sampleReport(), true);
      expect(text).to.match(/spend_by_segment\s+│\s+3 \/ 3 │\s+3 \/ 3 │/);
      expect(text).to.not.include('OFF_HEAP');
    });

    it('gives the same table in Markdown', () => {
      const md = renderReportMarkdown(sampleReport()).split('\n');
      expect(md[0]).to.equal(
        '| mode | level | first ms | median ms | p95 ms | speedup | break-even q | memory | disk | B/row | × parquet | digest |',
      );
      expect(md[3]).to.match(
        /^\| MEMORY_ONLY \| MEMORY_ONLY \| 2,000 \| 205 \| 900 \| 3\.90× \| 3 \| 28\.3 KiB \| 0 B \| 29\.0 \| 1\.45 \| abababababab \|$/,
      );
      expect(md[4]).to.match(/^\| OFF_HEAP \| skipped \| — \|/);
    });

    it('explains skips, partial caching and unreachable REST in the notes', () => {
      const r = sampleReport();
      r.rest_api = { ...r.rest_api, reachable: false, reason: 'cannot be reached (ECONNREFUSED)' };
      const notes = reportNotes(r).join('\n');
      expect(notes).to.match(/OFF_HEAP skipped: off-heap storage is disabled/);
      expect(notes).to.match(/MEMORY_ONLY: only 1 of 2 partitions stayed cached/);
      expect(notes).to.match(/memory\/disk not measured \(null\): cannot be reached/);
      expect(notes).to.match(/digests: equal in every mode/);
      expect(notes).to.not.match(/machine was shared/);
      expect(notes).to.not.match(/speedup is null/);
      expect(reportNotes({ ...r, modes: r.modes.slice(1) }).join('\n')).to.match(
        /speedup is null: it is measured against the none mode, which did not run/,
      );
      r.modes[0].load_average = [0.5, 9.25];
      expect(reportNotes(r).join('\n')).to.match(/machine was shared: 1-minute load average up to 9\.3 on 2 cores/);
    });

    it('writes JSON, CSV and SVG side by side; the chart has a line per mode that ran', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cb-report-${randomUUID()}-`));
      try {
        const out = await writeReport(sampleReport(), path.join(dir, 'cache-bench.json'));
        expect(JSON.parse(fs.readFileSync(out.json, 'utf8')).modes).to.have.length(3);
        const csvLines = fs.readFileSync(out.csv, 'utf8').trim().split('\n');
        expect(csvLines).to.have.length(4);
        expect(csvLines[0]).to.equal(CSV_COLUMNS.join(','));
        expect(csvLines[3]).to.match(/^OFF_HEAP,,,,,,,,,,,,nothing,/);
        // The second chart: one point per mode that has a speedup and a size (the skipped mode has neither).
        const speedupSvg = fs.readFileSync(out.speedup_svg, 'utf8');
        expect(out.speedup_svg).to.match(/cache-bench\.speedup\.svg$/);
        expect(speedupSvg.startsWith('<svg')).to.equal(true);
        expect(
          (speedupBytesChartSpec(sampleReport()) as { data: { values: Array<{ series: string }> } }).data.values.map((v) => v.series),
        ).to.deep.equal(['none', 'MEMORY_ONLY']);
        const svg = fs.readFileSync(out.svg, 'utf8');
        expect((svg.match(/class="mark-line/g) ?? []).length).to.equal(2);
        expect(svg).to.include('none').and.to.include('MEMORY_ONLY');
        expect((iterationChartSpec(sampleReport()) as { data: { values: unknown[] } }).data.values).to.have.length(6);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('cache-bench scaling (several sizes side by side)', () => {
    const MiB = 2 ** 20;
    /** A report at `rows` generated rows: none, a MEMORY_ONLY cache with `cached` of 8 partitions, MEMORY_AND_DISK with `spilled` bytes on disk. */
    function sized(rows: number, cached: number, spilled: number, load: number): CacheBenchReport {
      const r = sampleReport();
      r.rows = rows;
      r.workload = { ...r.workload, ledger: { ...r.workload.ledger, rows_held: Math.round(rows * 0.9) } };
      r.load_average = { start: load, end: load + 1 };
      r.modes = [
        mode({ mode: 'none', median_ms: rows / 10 }),
        mode({
          mode: 'MEMORY_ONLY',
          storage_level: 'MEMORY_ONLY',
          median_ms: rows / 100,
          speedup: 10,
          memory_bytes: 100 * MiB * cached,
          disk_bytes: 0,
          cached_partitions: cached,
          total_partitions: 8,
          ...(cached < 8 ? { fits: false, overflow: 'recomputed' as const } : { fits: true }),
        }),
        mode({
          mode: 'MEMORY_AND_DISK',
          storage_level: 'MEMORY_AND_DISK',
          median_ms: rows / 200,
          speedup: 20,
          memory_bytes: 700 * MiB,
          disk_bytes: spilled,
          cached_partitions: 8,
          total_partitions: 8,
          ...(spilled > 0 ? { fits: false, overflow: 'spilled to disk' as const } : { fits: true }),
        }),
        mode({ mode: 'parquet', median_ms: null, first_ms: rows / 300, speedup: 30 }),
        mode({ mode: 'OFF_HEAP', skipped: 'off-heap storage is disabled' }),
      ];
      return r;
    }

    it("orders the reports by size, keeps the modes that ran, and takes each report's held rows, storage memory and load", () => {
      const rows = scalingRows([sized(4_000_000, 6, 50 * MiB, 3), sized(1_000_000, 8, 0, 1)]);
      expect(rows.map((r) => `${r.rows}/${r.mode}`)).to.deep.equal([
        '1000000/none',
        '1000000/MEMORY_ONLY',
        '1000000/MEMORY_AND_DISK',
        '1000000/parquet',
        '4000000/none',
        '4000000/MEMORY_ONLY',
        '4000000/MEMORY_AND_DISK',
        '4000000/parquet',
      ]);
      expect(rows[4].rows_held).to.equal(3_600_000);
      expect(rows[4].load_average).to.deep.equal({ start: 3, end: 4 });
      expect(rows[1].storage_memory_on_heap_bytes).to.equal(2e9);
      // One iteration has no steady state: the first mix time stands in for it.
      expect(rows[7].median_ms).to.equal(4_000_000 / 300);
    });

    it('says per size and level what Spark did: fits, the missing partitions recomputed, or spilled to disk', () => {
      const text = renderScalingTable(scalingRows([sized(1_000_000, 8, 0, 1), sized(4_000_000, 6, 50 * MiB, 3)]), true);
      const line = (rowsText: string, m: string) => text.split('\n').find((l) => l.includes(rowsText) && l.includes(` ${m} `)) ?? '';
      expect(line('1,000,000', 'MEMORY_ONLY')).to.include('8/8 partitions cached, fits');
      expect(line('4,000,000', 'MEMORY_ONLY')).to.include('6/8 partitions cached: the rest recomputed from the CSV on every query');
      expect(line('4,000,000', 'MEMORY_AND_DISK')).to.include('8/8 partitions cached, 50.0 MiB of it spilled to disk');
      expect(line('4,000,000', 'none')).to.include('recomputed every query');
      expect(line('4,000,000', 'parquet')).to.include('files re-read every query');
      // The load is the mode's own (its iterations'), not the run's start and end.
      expect(line('4,000,000', 'none')).to.include('0.5–0.7');
      const noLoads = sized(4_000_000, 8, 0, 3);
      noLoads.modes[0].load_average = [];
      expect(renderScalingTable(scalingRows([noLoads]), true)).to.include('3.0–4.0 (run)');
    });

    it('charts bytes held per persisted level against storage memory, with a disk line only where something went to disk', () => {
      const rows = scalingRows([sized(1_000_000, 8, 0, 1), sized(4_000_000, 6, 50 * MiB, 3)]);
      const values = (scalingMemoryChartSpec(rows) as { data: { values: Array<{ series: string; x: number; y: number }> } }).data.values;
      const at = (series: string, x: number) => values.filter((v) => v.series === series && v.x === x).map((v) => v.y);
      expect(at('MEMORY_ONLY in memory', 4)).to.deep.equal([600]);
      expect(at('MEMORY_AND_DISK on disk', 4)).to.deep.equal([50]);
      expect(at('MEMORY_AND_DISK on disk', 1)).to.deep.equal([]);
      expect(at('storage memory (on-heap)', 1)).to.deep.equal([Math.round((2e9 / MiB) * 10) / 10]);
      // none and the file modes hold nothing in the block manager: not in this chart.
      expect(values.some((v) => v.series.startsWith('none') || v.series.startsWith('parquet'))).to.equal(false);
      const time = (scalingTimeChartSpec(rows) as { data: { values: Array<{ series: string; x: number }> } }).data.values;
      expect(time.filter((v) => v.series === 'MEMORY_ONLY').map((v) => v.x)).to.deep.equal([1, 4]);
    });
  });
});
