import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { KafkaFeed, type FeedTopics } from './feed';
import { watchModel } from './model-watch';
import { listReports, resolveReportFile } from './reports';
import { DashboardState, type KafkaStatus, type ModelSummary } from './state';
import { errorMessage } from '../util/errors';

export interface DashboardOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  bootstrapServers?: string;
  topics: FeedTopics;
  /** The CDC model.json to watch. */
  modelFile: string;
  reportsDir: string;
  /** Event time kept per sensor, and how far back the topics are read at start (ms). */
  historyMs: number;
  /** Read the topics from their beginning instead of `historyMs` back. */
  fromBeginning: boolean;
}

export interface RunningDashboard {
  url: string;
  port: number;
  state: DashboardState;
  feed: KafkaFeed;
  close(): Promise<void>;
}

const PAGE_DIR = path.join(__dirname, 'page');
const UPLOT_DIR = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

/** The page's own files and the charting library's, by URL; nothing else is served from disk but reports. */
const STATIC: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: path.join(PAGE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: path.join(PAGE_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: path.join(PAGE_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/uPlot.iife.min.js': { file: path.join(UPLOT_DIR, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/vendor/uPlot.min.css': { file: path.join(UPLOT_DIR, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** The page runs only its own scripts and talks only to this server (no CDN, no inline script). */
const PAGE_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** One Server-Sent Events message. */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Starts the dashboard: the Kafka feed, the model watcher, a stats tick every second and an HTTP server
 * (node:http: one page, a few static files and one SSE stream need no framework). Nothing it serves comes
 * from the Spark server's state, so the Spark Connect token cannot reach the page.
 */
/** Bytes queued for one SSE client beyond which it counts as gone (a page reads far less than this per second). */
export const SSE_CLIENT_BUFFER_LIMIT = 8 * 2 ** 20;

export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const startedAt = new Date().toISOString();
  const state = new DashboardState({ historyMs: opts.historyMs, maxAlerts: 200, maxStats: 600, latencyWindowMs: 10_000 });
  const clients = new Set<http.ServerResponse>();
  // A page that stops reading (a frozen tab, a stalled proxy) must not make the server buffer without end:
  // past the limit it is disconnected, and its EventSource reconnects to the retained state.
  const send = (res: http.ServerResponse, text: string) => {
    if (res.writableLength > SSE_CLIENT_BUFFER_LIMIT) {
      clients.delete(res);
      res.destroy();
      return;
    }
    res.write(text);
  };
  const broadcast = (event: string, data: unknown) => {
    const msg = sseMessage(event, data);
    for (const res of clients) send(res, msg);
  };
  const feed = new KafkaFeed(
    { bootstrapServers: opts.bootstrapServers, topics: opts.topics, readFrom: opts.fromBeginning ? 0 : Date.now() - opts.historyMs },
    {
      aggregate: (a, receivedAt) => {
        state.addAggregate(a, receivedAt);
        broadcast('aggregate', a);
      },
      alert: (a) => {
        state.addAlert(a);
        broadcast('alert', a);
      },
      dlq: (reason) => state.addDlq(reason),
      unreadable: () => state.addUnreadable(),
      status: (s: KafkaStatus) => broadcast('kafka', s),
    },
  );
  let model: ModelSummary | undefined;
  const unwatch = watchModel(opts.modelFile, (m) => {
    model = m;
    broadcast('model', m);
  });
  let lastTick = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    const sample = state.tick(now, lastTick, feed.dataEndOffsets);
    lastTick = now;
    if (state.takeDlqChange()) broadcast('dlq', state.dlq);
    broadcast('stats', sample);
  }, 1000);
  // SSE comments keep idle connections (and proxies) from timing out.
  const keepalive = setInterval(() => {
    for (const res of clients) send(res, ': keepalive\n\n');
  }, 15_000);

  const hello = () => ({
    started_at: startedAt,
    topics: opts.topics,
    history_ms: opts.historyMs,
    model_file: opts.modelFile,
    reports_dir: opts.reportsDir,
  });

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard');
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('bad request path\n');
      return;
    }
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      // A new page (or a reconnected one) first gets everything retained, then live events.
      res.write('retry: 2000\n\n');
      res.write(sseMessage('hello', hello()));
      res.write(sseMessage('kafka', feed.currentStatus()));
      if (model) res.write(sseMessage('model', model));
      res.write(sseMessage('dlq', state.dlq));
      for (const s of state.stats) res.write(sseMessage('stats', s));
      for (const a of state.retainedAggregates()) res.write(sseMessage('aggregate', a));
      for (const a of state.alerts) res.write(sseMessage('alert', a));
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (url.pathname === '/api/reports') {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(listReports(opts.reportsDir)));
      return;
    }
    if (url.pathname.startsWith('/reports/')) {
      const found = resolveReportFile(opts.reportsDir, url.pathname);
      if (!found) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('no such report file\n');
        return;
      }
      // A report SVG opened on its own must not run script.
      res.writeHead(200, {
        'Content-Type': found.type,
        'Cache-Control': 'no-store',
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      });
      sendFile(res, found.file);
      return;
    }
    const asset = STATIC[url.pathname];
    if (!asset) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache', 'Content-Security-Policy': PAGE_CSP });
    sendFile(res, asset.file);
  };
  // One bad request (a file gone mid-read, a report directory being replaced) answers 500; it never stops the server.
  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`dashboard: ${errorMessage(err)}\n`);
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    clearInterval(ticker);
    clearInterval(keepalive);
    unwatch();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new Error(`${opts.host}:${opts.port} is already in use (another dashboard?): pass --port`);
    throw e;
  }
  feed.start();
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    state,
    feed,
    async close() {
      clearInterval(ticker);
      clearInterval(keepalive);
      unwatch();
      for (const res of clients) res.end();
      clients.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await feed.stop();
    },
  };
}

/** Streams a file as the response body; a read error (the file went away) ends the response instead of the process. */
function sendFile(res: http.ServerResponse, file: string): void {
  const stream = fs.createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
