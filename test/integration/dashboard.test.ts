import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import type { Page } from 'playwright-core';
import { ensureKafka } from '../support/servers';
import { connectIdempotentProducer, ensureTopics, sendBatch, streamKafka, type IdempotentProducer } from '../../lib/stream/kafka';
import type { AggregateMessage, AlertMessage } from '../../lib/stream/sensors';
import { writeFileAtomic, writeSvg, seriesChartSpec } from '../../lib/report';
import { startDashboard, type DashboardOptions, type RunningDashboard } from '../../lib/dashboard/server';
import { chromiumMissing, launchChromium } from '../../lib/dashboard/browser';
import { ROOT } from '../../lib/runtime/paths';
import type { FeedTopics } from '../../lib/dashboard/feed';

/** Reads an SSE stream into parsed events (the test's own client, so /events is checked without a browser). */
function sseClient(url: string): {
  events: Array<{ type: string; data: unknown; at: number }>;
  waitFor(pred: (e: { type: string; data: unknown }) => boolean, timeoutMs: number): Promise<{ type: string; data: unknown; at: number }>;
  close(): void;
} {
  const events: Array<{ type: string; data: unknown; at: number }> = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  const req = http.get(url, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data !== undefined) events.push({ type, data: JSON.parse(data), at: Date.now() });
      }
      for (const w of waiters.splice(0)) w();
    });
  });
  req.on('error', () => undefined);
  return {
    events,
    waitFor(pred, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) return resolve(hit);
          if (Date.now() > deadline)
            return reject(new Error(`no matching SSE event within ${timeoutMs} ms; got ${events.map((e) => e.type).join(',')}`));
          waiters.push(check);
          setTimeout(check, 100);
        };
        check();
      });
    },
    close: () => req.destroy(),
  };
}

function aggregate(
  sensor: string,
  windowStart: number,
  temperatureAvg: number,
  extra: Partial<AggregateMessage> & { final?: boolean } = {},
): AggregateMessage & { final?: boolean } {
  return {
    sensor_id: sensor,
    window_start: new Date(windowStart).toISOString(),
    window_end: new Date(windowStart + 10_000).toISOString(),
    readings: 10,
    temperature_avg: temperatureAvg,
    temperature_min: temperatureAvg - 1,
    temperature_max: temperatureAvg + 1,
    temperature_stddev: 0.5,
    humidity_avg: 45.5,
    pressure_avg: 1013.25,
    last_event_ts: Date.now() - 500,
    ...extra,
  };
}

const text = (page: Page, selector: string) => page.locator(selector).first().textContent({ timeout: 10_000 });
/** The little of the DOM the page functions below use (the project compiles without the DOM library). */
type Dom = { document: { querySelector(s: string): { textContent: string | null; complete?: boolean; naturalWidth?: number } | null } };
/**
 * Waits (checking every frame) until the element's text is `expected`. Page code goes as functions, not
 * strings: the page's Content-Security-Policy forbids eval, and the test keeps it on.
 */
const waitForText = (page: Page, selector: string, expected: string, timeout = 10_000) =>
  page.waitForFunction(
    ({ selector, expected }) => (globalThis as unknown as Dom).document.querySelector(selector)?.textContent === expected,
    { selector, expected },
    { timeout, polling: 'raf' },
  );

describe('dashboard in a real browser (Kafka + Chromium) @integration', function () {
  this.timeout(180_000);
  const id = randomUUID().slice(0, 8);
  const topics: FeedTopics = {
    live: `dash-${id}.aggregates_live`,
    aggregates: `dash-${id}.aggregates`,
    alerts: `dash-${id}.alerts`,
    dlq: `dash-${id}.dlq`,
    data: `dash-${id}.data`,
  };
  let dir: string;
  let kafka: Kafka;
  let producer: IdempotentProducer;
  let dashboard: RunningDashboard | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const windowStart = Math.floor(Date.now() / 10_000) * 10_000 - 20_000;
  let options: DashboardOptions;
  /** Every sensor this suite has sent an aggregate for (the page's sensor count). */
  const sensorsSent = new Set<string>();
  const sendAggregates = async (topic: string, list: AggregateMessage[]) => {
    await sendBatch(
      producer,
      topic,
      list.map((a) => ({ key: a.sensor_id, value: JSON.stringify(a) })),
    );
    for (const a of list) sensorsSent.add(a.sensor_id);
  };

  before(async function () {
    // No silent skip: without Chromium these tests fail with the reason (make setup installs it as root).
    const missing = chromiumMissing();
    if (missing) throw new Error(missing);
    const k = await ensureKafka();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-dashboard-'));
    kafka = streamKafka('dashboard-test', k.bootstrap_servers);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topics.aggregates, topics.alerts, topics.dlq, topics.data], 1);
    await admin.disconnect();
    producer = await connectIdempotentProducer(kafka, k.bootstrap_servers);
    // A bench report and a run report, as `make bench` / `make run` leave them.
    const reports = path.join(dir, 'reports');
    const benchDir = path.join(reports, 'bench', '20260101T000000Z');
    fs.mkdirSync(benchDir, { recursive: true });
    fs.symlinkSync('20260101T000000Z', path.join(reports, 'bench', 'latest'));
    fs.writeFileSync(path.join(benchDir, 'summary.md'), '# bench\n');
    await writeSvg(
      path.join(benchDir, 'chart-ms.svg'),
      seriesChartSpec(
        [
          { series: 'a', x: 1, y: 2 },
          { series: 'a', x: 2, y: 3 },
        ],
        { title: 'bench chart', xTitle: 'x', yTitle: 'ms' },
      ),
    );
    fs.mkdirSync(path.join(reports, 'run'), { recursive: true });
    fs.writeFileSync(path.join(reports, 'run', 'summary.md'), '# run\n');
    options = {
      host: '127.0.0.1',
      port: 0,
      bootstrapServers: k.bootstrap_servers,
      topics,
      modelFile: path.join(dir, 'models', 'model.json'),
      reportsDir: reports,
      historyMs: 5 * 60_000,
      fromBeginning: false,
    };
    dashboard = await startDashboard(options);
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await dashboard?.close();
    await producer?.disconnect();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('/events delivers an aggregate event within 5 s of the aggregate reaching Kafka', async function () {
    const sse = sseClient(`${dashboard!.url}events`);
    try {
      await sse.waitFor(
        (e) =>
          e.type === 'kafka' &&
          (e.data as { state: string; topics: string[] }).state === 'connected' &&
          (e.data as { topics: string[] }).topics.includes(topics.aggregates),
        30_000,
      );
      const a = aggregate('probe-sensor', windowStart, 19.5);
      // Timed from before the send: an upper bound of "reaching Kafka → event" (the event can arrive before
      // this process has handled the produce acknowledgement).
      const sent = Date.now();
      await sendAggregates(topics.aggregates, [a]);
      const got = await sse.waitFor((e) => e.type === 'aggregate' && (e.data as AggregateMessage).sensor_id === 'probe-sensor', 5_000);
      expect(got.data).to.deep.equal(a); // the aggregate JSON as in the topic
      console.log(`      send → /events aggregate: ${got.at - sent} ms`);
      expect(got.at - sent).to.be.below(5_000);
    } finally {
      sse.close();
    }
  });

  it('shows the sensor count, a known aggregate, the alerts, DLQ reasons, the model card and the reports; screenshot', async function () {
    const page = await browser!.context.newPage();
    const t0 = Date.now();
    await page.goto(dashboard!.url);
    const paint = await page.evaluate(() =>
      performance
        .getEntriesByType('paint' as Parameters<typeof performance.getEntriesByType>[0])
        .map((p) => ({ name: p.name, t: p.startTime })),
    );
    await page.locator('#kafka-status.ok').waitFor({ timeout: 30_000 });
    console.log(`      page loaded in ${Date.now() - t0} ms; ${paint.map((p) => `${p.name} ${p.t.toFixed(0)} ms`).join(', ')}`);

    // Known readings (only counted through the data topic's end offsets), aggregates, alerts, DLQ records.
    const readings = Array.from({ length: 50 }, (_, i) => ({
      key: `s-${i % 3}`,
      value: JSON.stringify({ sensor_id: `s-${i % 3}`, ts: Date.now(), temperature: 20 + (i % 5), seq: i }),
    }));
    await sendBatch(producer, topics.data, readings);
    const aggregates = [0, 1, 2].flatMap((s) => [0, 10_000].map((dt) => aggregate(`s-${s}`, windowStart + dt, 20 + s + dt / 40_000)));
    aggregates.push(aggregate('s-1', windowStart + 10_000, 23.25)); // a newer value of the same window replaces the previous one
    const acked = Date.now(); // before the send, as above
    await sendAggregates(topics.aggregates, aggregates);
    await waitForText(page, '[data-sensor="s-1"][data-field="temperature_avg"]', '23.25');
    console.log(`      send → aggregate value on screen: ${Date.now() - acked} ms`);
    expect(await text(page, '#sensor-count')).to.equal(String(sensorsSent.size));
    expect(await text(page, '[data-sensor="s-2"][data-field="temperature_avg"]')).to.equal('22.25');
    expect(await text(page, '[data-sensor="s-1"][data-field="readings"]')).to.equal('10');

    const alerts: AlertMessage[] = [
      {
        sensor_id: 's-2',
        rule: 'zscore',
        metric: 'temperature',
        value: 35.5,
        ts: Date.now() - 2000,
        seq: 7,
        zscore: 4.25,
        window_start: new Date(windowStart).toISOString(),
        window_end: new Date(windowStart + 10_000).toISOString(),
      },
      {
        sensor_id: 's-0',
        rule: 'out_of_bounds',
        metric: 'humidity',
        value: 120,
        ts: Date.now() - 1000,
        seq: 9,
        zscore: null,
        window_start: null,
        window_end: null,
      },
    ];
    await sendBatch(
      producer,
      topics.alerts,
      alerts.map((a) => ({ key: a.sensor_id, value: JSON.stringify(a) })),
    );
    const dlq = ['not_json', 'not_json', 'out_of_bounds:humidity'].map((reason, i) => ({
      key: null,
      value: JSON.stringify({
        raw: `<b>${i}</b>`,
        reason,
        source_topic: topics.data,
        source_partition: 0,
        source_offset: i,
        source_timestamp: null,
      }),
    }));
    await sendBatch(producer, topics.dlq, dlq);
    fs.mkdirSync(path.dirname(options.modelFile), { recursive: true });
    writeFileAtomic(
      options.modelFile,
      JSON.stringify({
        n: 1234,
        events_applied: 5678,
        events_skipped: 3,
        tombstones: 2,
        dlq: 1,
        table_rows: 1300,
        features: ['a', 'b'],
        lambda: 1,
        metrics: { train: { roc_auc: 0.91 }, holdout: { roc_auc: 0.875 } },
        updated_at: new Date().toISOString(),
      }),
    );

    await page.locator('#alerts tbody tr[data-sensor="s-0"][data-rule="out_of_bounds"]').waitFor({ timeout: 10_000 });
    const zRow = (await text(page, '#alerts tbody tr[data-sensor="s-2"][data-rule="zscore"]')) ?? '';
    expect(zRow).to.contain('35.50').and.contain('4.25').and.contain('temperature');
    expect(await page.locator('#alerts tbody tr').count()).to.equal(2);
    await waitForText(page, '#model-n', '1,234');
    expect(await text(page, '#model-auc')).to.equal('0.875');
    expect(await text(page, '#model-events')).to.equal('5,678');
    await waitForText(page, '#dlq tr[data-reason="not_json"] td.num', '2');
    expect(await text(page, '#dlq tr[data-reason="out_of_bounds:humidity"] td.num')).to.equal('1');
    // The raw DLQ value is never rendered, and nothing from Kafka is parsed as HTML.
    expect(await page.locator('#dlq b').count()).to.equal(0);
    await page.waitForFunction(
      () => /^[0-9,]+$/.test((globalThis as unknown as Dom).document.querySelector('#in-rate')?.textContent ?? ''),
      undefined,
      { timeout: 10_000 },
    );

    // The reports: links and the bench SVG inline, loaded from this server.
    const img = page.locator('#reports img[alt="chart-ms.svg"]');
    await img.waitFor({ timeout: 10_000 });
    await page.waitForFunction(
      () => {
        const i = (globalThis as unknown as Dom).document.querySelector('#reports img[alt="chart-ms.svg"]');
        return i?.complete === true && (i.naturalWidth ?? 0) > 0;
      },
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.locator('#reports a', { hasText: 'summary.md' }).count()).to.equal(2);
    // Charts are uPlot canvases (served from node_modules), one per chart.
    expect(await page.locator('#temp-chart canvas').count()).to.equal(1);
    await page.locator('#latency-chart canvas').waitFor({ timeout: 10_000 });

    const shot = path.join(dir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(fs.statSync(shot).size).to.be.above(10_000);
    if (process.env.SPARK_TS_KEEP_SCREENSHOT) fs.copyFileSync(shot, process.env.SPARK_TS_KEEP_SCREENSHOT);
    await page.close();
  });

  it('switches to the live aggregates topic once it exists and shows running windows', async function () {
    const page = await browser!.context.newPage();
    await page.goto(dashboard!.url);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topics.live], 1);
    await admin.disconnect();
    await page.waitForFunction(
      (live) => ((globalThis as unknown as Dom).document.querySelector('#topics')?.textContent ?? '').includes(live),
      topics.live,
      { timeout: 15_000 },
    );
    const a = aggregate('s-live', windowStart + 20_000, 18.75, { final: false });
    await sendAggregates(topics.live, [a]);
    await waitForText(page, '[data-sensor="s-live"][data-field="temperature_avg"]', '18.75');
    expect(await text(page, '#sensors tr[data-sensor="s-live"] td:last-child')).to.equal('running');
    expect(dashboard!.feed.currentStatus().aggregates_topic).to.equal(topics.live);
    await page.close();
  });

  it('says on the page that Kafka is unreachable, and reconnects when it comes back', async function () {
    // A port where nothing listens yet; later a TCP relay to the real broker opens on it.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const second = await startDashboard({ ...options, bootstrapServers: `127.0.0.1:${port}` });
    let relay: net.Server | undefined;
    const sockets = new Set<net.Socket>();
    const page = await browser!.context.newPage();
    try {
      await page.goto(second.url);
      await page.locator('#kafka-status.bad', { hasText: 'Kafka unreachable' }).waitFor({ timeout: 30_000 });
      expect(await text(page, '#kafka-status')).to.contain(`127.0.0.1:${port}`);
      const [host, brokerPort] = options.bootstrapServers!.split(':');
      relay = net.createServer((client) => {
        const upstream = net.connect(Number(brokerPort), host);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      await new Promise<void>((resolve) => relay!.listen(port, '127.0.0.1', resolve));
      await page.locator('#kafka-status.ok').waitFor({ timeout: 30_000 });
      expect(second.feed.currentStatus().failures).to.be.above(0);
    } finally {
      await page.close();
      await second.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
    }
  });

  it('`spark-ts dashboard` serves, announces itself to `make stream`, and stops cleanly on Ctrl-C', async function () {
    const runDir = path.join(dir, 'run');
    const env = { ...process.env, SPARK_TS_RUN_DIR: runDir };
    const makeStreamLine = () =>
      execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'lib', 'dashboard', 'running.ts')], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      }).trim();
    expect(makeStreamLine()).to.match(/^dashboard: not running/);
    const child = spawn(
      path.join(ROOT, 'bin', 'spark-ts'),
      ['dashboard', '--port', '0', '--bootstrap-servers', options.bootstrapServers!, '--reports-dir', options.reportsDir],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!/dashboard: (http:\S+)/.test(stderr) && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      const url = /dashboard: (http:\S+)/.exec(stderr)?.[1];
      expect(url, stderr).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(makeStreamLine()).to.equal(`dashboard: ${url} shows this stream live in the browser`);
      const page = await browser!.context.newPage();
      await page.goto(url!);
      await page.locator('#kafka-status.ok').waitFor({ timeout: 30_000 });
      await page.close();
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).to.equal(0);
    expect(stderr).to.contain('dashboard: stopping (SIGINT)');
    expect(fs.existsSync(path.join(runDir, 'dashboard.json'))).to.equal(false);
  });
});
