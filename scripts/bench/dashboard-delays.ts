// Dashboard delays, measured in headless Chromium against the embedded Kafka broker:
//  - first paint: first-contentful-paint of the page, and when the first aggregate is on screen (the page's
//    'first-aggregate-painted' mark), for a dashboard already holding --sensors × --windows aggregates;
//  - event to screen: an aggregate sent to Kafka (acks=-1) → its `aggregate` event on /events (a Node SSE
//    client) and → its value in the page's DOM (checked every animation frame).
//   node -r ts-node/register/transpile-only scripts/bench/dashboard-delays.ts [--loads 5] [--events 30]
//        [--sensors 20] [--windows 30] [--json-out reports/bench-dashboard.json]
// Starts Kafka when it is not running (and stops it again). Prints the figures; writes JSON.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import yargs from 'yargs';
import { startKafka, stopKafka } from '../../lib/runtime/kafka-broker';
import { ROOT } from '../../lib/runtime/paths';
import { connectIdempotentProducer, ensureTopics, sendBatch, streamKafka } from '../../lib/stream/kafka';
import { percentiles } from '../../lib/measure/stats';
import { launchChromium } from '../../lib/dashboard/browser';
import { startDashboard } from '../../lib/dashboard/server';
import { sleep } from '../../lib/connect';

type Dom = {
  document: { querySelector(s: string): { textContent: string | null } | null };
  MutationObserver: new (cb: () => void) => { observe(target: unknown, opts: Record<string, boolean>): void };
  requestAnimationFrame(cb: () => void): number;
  /** probe value → epoch ms when it entered the DOM, and when the frame after it began (it is painted then). */
  seen: Record<string, { dom: number; frame?: number }>;
};

async function main(): Promise<void> {
  const a = await yargs(process.argv.slice(2))
    .option('loads', { type: 'number', default: 5, describe: 'page loads measured' })
    .option('events', { type: 'number', default: 30, describe: 'aggregates sent one at a time' })
    .option('sensors', { type: 'number', default: 20 })
    .option('windows', { type: 'number', default: 30, describe: 'windows per sensor held when the page loads' })
    .option('json-out', { type: 'string', default: path.join(ROOT, 'reports', 'bench-dashboard.json') })
    .strict()
    .parse();
  const { state: k, started } = await startKafka();
  const id = randomUUID().slice(0, 8);
  const topics = {
    live: `dash-bench-${id}.live`,
    aggregates: `dash-bench-${id}.aggregates`,
    alerts: `dash-bench-${id}.alerts`,
    dlq: `dash-bench-${id}.dlq`,
    data: `dash-bench-${id}.data`,
  };
  const kafka = streamKafka('dashboard-bench', k.bootstrap_servers);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topics.aggregates, topics.alerts, topics.dlq], 1);
  const producer = await connectIdempotentProducer(kafka, k.bootstrap_servers);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-dashboard-bench-'));
  const dashboard = await startDashboard({
    host: '127.0.0.1',
    port: 0,
    bootstrapServers: k.bootstrap_servers,
    topics,
    modelFile: path.join(dir, 'model.json'),
    reportsDir: path.join(dir, 'reports'),
    historyMs: 3_600_000,
    fromBeginning: false,
  });
  const browser = await launchChromium();
  const aggregate = (sensor: string, start: number, temp: number) => ({
    sensor_id: sensor,
    window_start: new Date(start).toISOString(),
    window_end: new Date(start + 10_000).toISOString(),
    readings: 10,
    temperature_avg: temp,
    temperature_min: temp - 1,
    temperature_max: temp + 1,
    temperature_stddev: 0.5,
    humidity_avg: 40,
    pressure_avg: 1000,
    last_event_ts: Date.now(),
  });
  try {
    while (dashboard.feed.currentStatus().state !== 'connected') await sleep(100);
    // The history a page load receives.
    const base = Math.floor(Date.now() / 10_000) * 10_000 - a.windows * 10_000;
    const history = [];
    for (let w = 0; w < a.windows; w++)
      for (let s = 0; s < a.sensors; s++)
        history.push(aggregate(`sensor-${String(s).padStart(3, '0')}`, base + w * 10_000, 20 + Math.sin(w / 3 + s)));
    await sendBatch(
      producer,
      topics.aggregates,
      history.map((x) => ({ key: x.sensor_id, value: JSON.stringify(x) })),
    );
    while (dashboard.state.totals.aggregates < history.length) await sleep(100);

    const fcp: number[] = [];
    const firstData: number[] = [];
    for (let i = 0; i < a.loads; i++) {
      const page = await browser.context.newPage();
      await page.goto(dashboard.url);
      await page.waitForFunction(() => performance.getEntriesByName('first-aggregate-painted').length > 0, undefined, { timeout: 30_000 });
      const marks = await page.evaluate(() => ({
        fcp:
          performance
            .getEntriesByType('paint' as Parameters<typeof performance.getEntriesByType>[0])
            .find((p) => p.name === 'first-contentful-paint')?.startTime ?? NaN,
        data: performance.getEntriesByName('first-aggregate-painted')[0].startTime,
      }));
      fcp.push(marks.fcp);
      firstData.push(marks.data);
      await page.close();
    }

    // Event to screen, one aggregate at a time, each with a value the page has not shown yet.
    const page = await browser.context.newPage();
    await page.goto(dashboard.url);
    await page.waitForFunction(() => performance.getEntriesByName('first-aggregate-painted').length > 0, undefined, { timeout: 30_000 });
    // The page's own clock (the same system clock as this process) stamps when the probe's value enters the
    // DOM and when the next frame starts, so the polling of the check below adds nothing to the figures.
    await page.evaluate(() => {
      const g = globalThis as unknown as Dom;
      g.seen = {};
      new g.MutationObserver(() => {
        const text = g.document.querySelector('[data-sensor="probe"][data-field="temperature_avg"]')?.textContent;
        if (text && !g.seen[text]) {
          const entry: { dom: number; frame?: number } = { dom: Date.now() };
          g.seen[text] = entry;
          g.requestAnimationFrame(() => (entry.frame = Date.now()));
        }
      }).observe(g.document.querySelector('#sensors'), { childList: true, subtree: true, characterData: true });
    });
    const sseArrivals = new Map<string, number>();
    const sse = http.get(`${dashboard.url}events`, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        for (const m of buf.matchAll(/event: aggregate\ndata: (.*)\n\n/g)) {
          const v = JSON.parse(m[1]) as { sensor_id: string; temperature_avg: number };
          if (v.sensor_id === 'probe' && !sseArrivals.has(v.temperature_avg.toFixed(2)))
            sseArrivals.set(v.temperature_avg.toFixed(2), Date.now());
        }
        buf = buf.slice(buf.lastIndexOf('\n\n') + 2);
      });
    });
    const toSse: number[] = [];
    const toScreen: number[] = [];
    const toFrame: number[] = [];
    for (let i = 0; i < a.events; i++) {
      const temp = 30 + i / 4; // two decimals exactly: the page shows x.toFixed(2)
      const x = aggregate('probe', base + a.windows * 10_000, temp);
      // Timed from before the send (an upper bound of "in Kafka → ..."): the event can reach the SSE client
      // before this process has handled the produce acknowledgement.
      const sent = Date.now();
      await sendBatch(producer, topics.aggregates, [{ key: 'probe', value: JSON.stringify(x) }]);
      const seen = (
        await page.waitForFunction(
          (want) => (globalThis as unknown as Dom).seen[want]?.frame !== undefined && (globalThis as unknown as Dom).seen[want],
          temp.toFixed(2),
          { timeout: 10_000 },
        )
      ).jsonValue();
      const { dom, frame } = (await seen) as { dom: number; frame: number };
      toScreen.push(dom - sent);
      toFrame.push(frame - sent);
      for (let j = 0; j < 50 && !sseArrivals.has(temp.toFixed(2)); j++) await sleep(10);
      const at = sseArrivals.get(temp.toFixed(2));
      if (at !== undefined) toSse.push(at - sent);
      await sleep(200);
    }
    sse.destroy();
    const round = (p: ReturnType<typeof percentiles>) =>
      Object.fromEntries(Object.entries(p).map(([key, v]) => [key, v === null ? null : Math.round(v * 10) / 10]));
    const result = {
      measured_at: new Date().toISOString(),
      chromium: '/usr/bin/chromium (headless)',
      held_aggregates: history.length,
      first_contentful_paint_ms: round(percentiles(fcp)),
      first_aggregate_on_screen_ms: round(percentiles(firstData)),
      send_to_sse_ms: round(percentiles(toSse)),
      send_to_dom_ms: round(percentiles(toScreen)),
      send_to_next_frame_ms: round(percentiles(toFrame)),
    };
    console.log(
      `page load with ${history.length} aggregates held (${a.loads} loads): first contentful paint p50 ${result.first_contentful_paint_ms.p50} ms (max ${result.first_contentful_paint_ms.max}); first aggregate on screen p50 ${result.first_aggregate_on_screen_ms.p50} ms (max ${result.first_aggregate_on_screen_ms.max})`,
    );
    console.log(
      `event to screen (${a.events} aggregates): send → /events p50 ${result.send_to_sse_ms.p50} ms, p95 ${result.send_to_sse_ms.p95} ms; send → value in the DOM p50 ${result.send_to_dom_ms.p50} ms, p95 ${result.send_to_dom_ms.p95} ms; → the frame that paints it p50 ${result.send_to_next_frame_ms.p50} ms, p95 ${result.send_to_next_frame_ms.p95} ms, max ${result.send_to_next_frame_ms.max} ms`,
    );
    fs.mkdirSync(path.dirname(a['json-out']), { recursive: true });
    fs.writeFileSync(a['json-out'], JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), a['json-out'])}`);
  } finally {
    await browser.close();
    await dashboard.close();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topics.aggregates, topics.alerts, topics.dlq] }).catch(() => undefined);
    await admin.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
    if (started) await stopKafka();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
