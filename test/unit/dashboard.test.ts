import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { DashboardState, dlqReason, summarizeModel, type DashboardAggregate, type KafkaStatus } from '../../lib/dashboard/state';
import { chooseTopics, KafkaFeed, type FeedTopics } from '../../lib/dashboard/feed';
import { isLoopback, resolveDashboardOptions, DASHBOARD_CLI_OPTIONS, type DashboardArgs } from '../../lib/dashboard/options';
import { listReports, resolveReportFile } from '../../lib/dashboard/reports';
import { readModelSummary, watchModel } from '../../lib/dashboard/model-watch';
import { sseMessage, startDashboard } from '../../lib/dashboard/server';
import type { ModelFile } from '../../lib/cdc/model-file';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const agg = (sensor: string, start: number, temp: number, lastEvent: number, final?: boolean): DashboardAggregate => ({
  sensor_id: sensor,
  window_start: new Date(start).toISOString(),
  window_end: new Date(start + 10_000).toISOString(),
  readings: 5,
  temperature_avg: temp,
  temperature_min: temp,
  temperature_max: temp,
  temperature_stddev: null,
  humidity_avg: 50,
  pressure_avg: 1000,
  last_event_ts: lastEvent,
  ...(final === undefined ? {} : { final }),
});
const TOPICS: FeedTopics = { live: 'live', aggregates: 'agg', alerts: 'alerts', dlq: 'dlq', data: 'data' };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-dashboard-unit-'));

function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('dashboard state', () => {
  it('keeps the newest value of each window: a later update replaces it, a replayed older one does not, final wins', () => {
    const s = new DashboardState();
    s.addAggregate(agg('a', T0, 20, T0 + 3000, false), T0 + 3100);
    s.addAggregate(agg('a', T0, 21, T0 + 6000, false), T0 + 6100);
    s.addAggregate(agg('a', T0, 19, T0 + 2000, false), T0 + 6200); // replayed older update
    expect(s.windows.get('a')!.get(T0)!.temperature_avg).to.equal(21);
    s.addAggregate(agg('a', T0, 21.5, T0 + 6000, true), T0 + 21_000);
    expect(s.windows.get('a')!.get(T0)!.final).to.equal(true);
    expect(s.totals.aggregates).to.equal(4);
  });

  it('forgets windows older than the history (event time) and sensors left with none', () => {
    const s = new DashboardState({ historyMs: 60_000, maxAlerts: 10, maxStats: 5, latencyWindowMs: 10_000 });
    s.addAggregate(agg('old', T0, 20, T0 + 9000), T0);
    s.addAggregate(agg('b', T0 + 50_000, 20, T0 + 59_000), T0);
    expect(s.windows.size).to.equal(2);
    s.addAggregate(agg('b', T0 + 70_000, 20, T0 + 79_000), T0);
    expect([...s.windows.keys()]).to.deep.equal(['b']);
    expect(s.retainedAggregates().map((a) => a.window_start)).to.deep.equal([
      new Date(T0 + 50_000).toISOString(),
      new Date(T0 + 70_000).toISOString(),
    ]);
  });

  it('ticks: rates since the last tick, the produce rate from end offsets, latency over the recent window', () => {
    const s = new DashboardState({ historyMs: 60_000, maxAlerts: 10, maxStats: 2, latencyWindowMs: 10_000 });
    const now = Date.now();
    s.addAggregate(agg('a', T0, 20, now - 5000), now - 4000); // latency 1000, too old for the window at now+7000
    s.addAggregate(agg('a', T0 + 10_000, 20, now - 1000), now); // latency 1000
    s.addAggregate(agg('b', T0 + 10_000, 20, now - 3000), now); // latency 3000
    const first = s.tick(now, now - 2000, { t: now, sum: 100 });
    expect(first.out_per_s.aggregates).to.equal(1.5);
    expect(first.in_per_s).to.equal(null); // one sample is no rate yet
    expect(first.latency_ms).to.include({ count: 3, p50: 1000, max: 3000 });
    const second = s.tick(now + 7000, now, { t: now + 2000, sum: 600 });
    expect(second.in_per_s).to.equal(250);
    expect(second.out_per_s.aggregates).to.equal(0);
    expect(second.latency_ms.count).to.equal(2);
    expect(s.tick(now + 8000, now + 7000, { t: now + 2000, sum: 600 }).in_per_s).to.equal(250); // same sample: rate kept
    expect(s.tick(now + 9000, now + 8000, undefined).in_per_s).to.equal(null); // topic gone
    expect(s.stats.length).to.equal(2);
    expect(s.stats.at(-1)!.sensors).to.equal(2);
  });

  it('counts DLQ records by reason and unreadable values as such; keeps the newest alerts', () => {
    const s = new DashboardState({ historyMs: 60_000, maxAlerts: 2, maxStats: 5, latencyWindowMs: 10_000 });
    for (const v of ['{"raw":"x","reason":"not_json"}', '{"reason":"missing_field:ts"}', 'garbage', '{"reason":"not_json"}'])
      s.addDlq(dlqReason(v));
    expect(s.dlq).to.deep.equal({ total: 4, counts: { not_json: 2, 'missing_field:ts': 1, unreadable: 1 } });
    expect(s.takeDlqChange()).to.equal(true);
    expect(s.takeDlqChange()).to.equal(false);
    for (const seq of [1, 2, 3])
      s.addAlert({
        sensor_id: 'a',
        rule: 'zscore',
        metric: 'temperature',
        value: 1,
        ts: T0,
        seq,
        zscore: 3.5,
        window_start: null,
        window_end: null,
      });
    expect(s.alerts.map((a) => a.seq)).to.deep.equal([2, 3]);
    expect(s.totals.alerts).to.equal(3);
  });
});

describe('dashboard model card', () => {
  it('summarizes model.json (n, events, hold-out AUC) and says why when it is absent or not a model', () => {
    const m = {
      n: 10,
      events_applied: 20,
      events_skipped: 1,
      tombstones: 0,
      dlq: 2,
      table_rows: 12,
      features: ['a', 'b', 'c'],
      lambda: 1,
      metrics: { train: { roc_auc: 0.9 }, holdout: { roc_auc: 0.8 } },
      updated_at: 'x',
    } as unknown as ModelFile;
    expect(summarizeModel('/m.json', m)).to.include({ present: true, n: 10, events_applied: 20, auc: 0.8, train_auc: 0.9, features: 3 });
    expect(summarizeModel('/m.json', undefined, 'gone')).to.deep.equal({ path: '/m.json', present: false, error: 'gone' });
    expect(summarizeModel('/m.json', { hello: 1 } as unknown as ModelFile).error).to.match(/not a CDC model/);
  });

  it('reads the file, and the watcher sees it appear and change (atomic rename included)', async () => {
    const dir = tmp();
    const file = path.join(dir, 'model.json');
    expect(readModelSummary(file)).to.include({ present: false });
    fs.writeFileSync(file, '{not json');
    expect(readModelSummary(file).error).to.match(/not JSON/);
    fs.rmSync(file);
    const seen: Array<number | undefined> = [];
    const stop = watchModel(file, (m) => seen.push(m.n), 20);
    try {
      const write = (n: number) => {
        fs.writeFileSync(`${file}.tmp`, JSON.stringify({ n, events_applied: n * 2 }));
        fs.renameSync(`${file}.tmp`, file);
      };
      const until = async (n: number) => {
        for (let i = 0; i < 500 && seen.at(-1) !== n; i++) await new Promise((r) => setTimeout(r, 10));
      };
      write(5);
      await until(5);
      write(6);
      await until(6);
      expect(seen[0]).to.equal(undefined);
      expect(seen.slice(-2)).to.deep.equal([5, 6]);
    } finally {
      stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dashboard options, topics, reports', () => {
  const defaults = Object.fromEntries(
    Object.entries(DASHBOARD_CLI_OPTIONS)
      .filter(([, o]) => 'default' in o)
      .map(([k, o]) => [k, (o as { default: unknown }).default]),
  ) as unknown as DashboardArgs;

  it('listens on 127.0.0.1:4050 by default; only loopback addresses count as loopback', () => {
    const o = resolveDashboardOptions(defaults);
    expect(o).to.include({ host: '127.0.0.1', port: 4050, historyMs: 300_000, fromBeginning: false });
    expect(o.topics).to.deep.equal({
      live: 'sensor_aggregates_live',
      aggregates: 'sensor_aggregates',
      alerts: 'sensor_alerts',
      dlq: 'sensor_data_dlq',
      data: 'sensor_data',
    });
    expect(o.modelFile.endsWith(path.join('models', 'model.json'))).to.equal(true);
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(h), h).to.equal(true);
    for (const h of ['0.0.0.0', '192.168.1.5', '::', '10.0.0.1']) expect(isLoopback(h), h).to.equal(false);
    expect(() => resolveDashboardOptions({ ...defaults, port: 70000 })).to.throw(/--port/);
    expect(() => resolveDashboardOptions({ ...defaults, host: 'example.org' })).to.throw(/--host/);
    expect(() => resolveDashboardOptions({ ...defaults, history: '5s' })).to.throw(/--history/);
  });

  it('reads the live aggregates topic when it exists, else the final one; only existing topics', () => {
    expect(chooseTopics(new Set(['agg', 'alerts', 'dlq', 'live']), TOPICS)).to.deep.equal({
      aggregates: 'live',
      subscribe: ['live', 'alerts', 'dlq'],
    });
    expect(chooseTopics(new Set(['agg', 'dlq']), TOPICS)).to.deep.equal({ aggregates: 'agg', subscribe: ['agg', 'dlq'] });
    expect(chooseTopics(new Set(), TOPICS)).to.deep.equal({ aggregates: null, subscribe: [] });
  });

  it('lists the latest bench and run reports and serves only report files inside the reports directory', () => {
    const dir = tmp();
    try {
      const reports = path.join(dir, 'reports');
      fs.mkdirSync(path.join(reports, 'bench', '20260101T000000Z'), { recursive: true });
      fs.mkdirSync(path.join(reports, 'bench', '20260201T000000Z'), { recursive: true });
      fs.writeFileSync(path.join(reports, 'bench', '20260201T000000Z', 'chart-ms.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
      fs.writeFileSync(path.join(reports, 'bench', '20260201T000000Z', 'summary.md'), '#');
      fs.writeFileSync(path.join(reports, 'bench', '20260201T000000Z', 'secret.key'), 'no');
      fs.mkdirSync(path.join(reports, 'run', 'logs'), { recursive: true });
      fs.writeFileSync(path.join(reports, 'run', 'cache-bench.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
      fs.writeFileSync(path.join(reports, 'run', 'logs', 'step.log'), 'x');
      fs.writeFileSync(path.join(dir, 'outside.json'), '{}');
      fs.symlinkSync(path.join(dir, 'outside.json'), path.join(reports, 'escape.json'));
      const l = listReports(reports);
      expect(l.bench!.dir).to.equal(path.join('bench', '20260201T000000Z'));
      expect(l.bench!.links.map((x) => x.name)).to.deep.equal(['summary.md']);
      expect(l.bench!.svgs.map((x) => x.href)).to.deep.equal(['/reports/bench/20260201T000000Z/chart-ms.svg']);
      expect(l.run!.svgs.map((x) => x.name)).to.deep.equal(['cache-bench.svg']);
      expect(l.run!.links).to.deep.equal([]); // logs/ is not listed
      expect(resolveReportFile(reports, '/reports/bench/20260201T000000Z/chart-ms.svg')?.type).to.equal('image/svg+xml');
      expect(resolveReportFile(reports, '/reports/bench/20260201T000000Z/secret.key')).to.equal(undefined);
      expect(resolveReportFile(reports, '/reports/../outside.json')).to.equal(undefined);
      expect(resolveReportFile(reports, '/reports/%2e%2e/outside.json')).to.equal(undefined);
      expect(resolveReportFile(reports, '/reports/escape.json')).to.equal(undefined); // a symlink out
      expect(resolveReportFile(reports, '/reports/%E0%A4%A.svg')).to.equal(undefined);
      expect(listReports(path.join(dir, 'none'))).to.deep.equal({ reports_dir: path.join(dir, 'none'), bench: null, run: null });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('formats one SSE message per event', () => {
    expect(sseMessage('alert', { a: 1 })).to.equal('event: alert\ndata: {"a":1}\n\n');
  });
});

describe('dashboard without a broker', function () {
  this.timeout(30_000);

  it('a recording fake Kafka that refuses: the feed reports reconnecting, counts failures, keeps trying, stops', async () => {
    const statuses: KafkaStatus[] = [];
    let attempts = 0;
    const refusing = {
      admin: () => ({
        connect: async () => {
          attempts++;
          throw new Error('Connection refused');
        },
        disconnect: async () => undefined,
      }),
    } as unknown as Kafka;
    const feed = new KafkaFeed(
      { bootstrapServers: '127.0.0.1:1', topics: TOPICS, readFrom: 0, retryMs: 10 },
      {
        aggregate: () => undefined,
        alert: () => undefined,
        dlq: () => undefined,
        unreadable: () => undefined,
        status: (s) => statuses.push(s),
      },
      () => refusing,
    );
    feed.start();
    for (let i = 0; i < 500 && attempts < 3; i++) await new Promise((r) => setTimeout(r, 10));
    await feed.stop();
    expect(attempts).to.be.at.least(3);
    expect(statuses[0]).to.include({ state: 'reconnecting', failures: 1, bootstrap_servers: '127.0.0.1:1' });
    expect(statuses[0].error).to.match(/Connection refused/);
    expect(feed.currentStatus().failures).to.equal(statuses.length);
  });

  it('serves the page, the charting library, /events and nothing else; never the Spark Connect token', async () => {
    const dir = tmp();
    const saved = process.env.SPARK_REMOTE;
    process.env.SPARK_REMOTE = 'sc://127.0.0.1:15002/;token=very-secret-token';
    const d = await startDashboard({
      host: '127.0.0.1',
      port: 0,
      bootstrapServers: '127.0.0.1:1',
      topics: TOPICS,
      modelFile: path.join(dir, 'model.json'),
      reportsDir: path.join(dir, 'reports'),
      historyMs: 60_000,
      fromBeginning: false,
    });
    try {
      const page = await get(d.url);
      expect(page.status).to.equal(200);
      expect(page.headers['content-security-policy']).to.match(/default-src 'self'/);
      expect(page.body)
        .to.contain('/vendor/uPlot.iife.min.js')
        .and.not.match(/https?:\/\/(?!www\.w3)/);
      const lib = await get(`${d.url}vendor/uPlot.iife.min.js`);
      expect(lib.status).to.equal(200);
      expect(lib.body).to.contain('uPlot');
      expect((await get(`${d.url}app.js`)).status).to.equal(200);
      expect((await get(`${d.url}package.json`)).status).to.equal(404);
      expect((await get(`${d.url}reports/../package.json`)).status).to.equal(404);
      // A path that is not a URL path answers 400, and the server goes on serving.
      expect((await get(`${d.url}/`)).status).to.equal(400);
      expect((await get(d.url)).status).to.equal(200);
      const events = await new Promise<string>((resolve, reject) => {
        http
          .get(`${d.url}events`, (res) => {
            expect(res.headers['content-type']).to.match(/^text\/event-stream/);
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              body += c;
              if (body.includes('event: dlq')) {
                res.destroy();
                resolve(body);
              }
            });
          })
          .on('error', reject);
      });
      expect(events).to.match(/^retry: 2000\n\nevent: hello\n/);
      expect(events).to.contain('event: kafka').and.contain('event: model');
      for (const body of [page.body, events]) expect(body).to.not.contain('very-secret-token');
    } finally {
      await d.close();
      if (saved === undefined) delete process.env.SPARK_REMOTE;
      else process.env.SPARK_REMOTE = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
