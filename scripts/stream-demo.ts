// `make stream`: the producer, the streaming job and the live view together for a short demonstration,
// then stops them.
//   node -r ts-node/register/transpile-only scripts/stream-demo.ts [--duration 60s] [--rate 1000] [--sensors 20]
// The view takes the terminal; the producer's and the job's output go to reports/stream-demo/*.log.
// Ctrl-C stops all three (each gets SIGINT and stops cleanly).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { ROOT } from '../lib/runtime/paths';
import { parseDuration } from '../lib/stream/rate';
import { sleep } from '../lib/connect';

const BIN = path.join(ROOT, 'bin', 'spark-ts');

function submit(job: string, args: string[], log: string | 'inherit'): ChildProcess {
  const out = log === 'inherit' ? 'inherit' : fs.openSync(log, 'w');
  // Detached (a process group of its own): a Ctrl-C at the terminal reaches only this script, which passes
  // exactly one SIGINT on. In the terminal's group each child got two (the terminal's and ours), and a
  // second Ctrl-C means "exit at once" to the runner: the job skipped its clean stop and Parquet flush.
  return spawn(BIN, ['submit', job, '--', ...args], { cwd: ROOT, stdio: ['ignore', out, out], detached: true });
}

const exited = (c: ChildProcess) =>
  new Promise<number>((resolve) =>
    c.exitCode !== null ? resolve(c.exitCode) : c.once('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1))),
  );

async function main(): Promise<void> {
  const argv = await yargs(process.argv.slice(2))
    .option('duration', { type: 'string', default: process.env.DURATION ?? '60s', describe: 'how long the producer sends' })
    .option('rate', { type: 'number', default: Number(process.env.RATE ?? 1000) })
    .option('sensors', { type: 'number', default: Number(process.env.SENSORS ?? 20) })
    .strict()
    .parse();
  const seconds = parseDuration(argv.duration, '--duration') / 1000;
  const logs = path.join(ROOT, 'reports', 'stream-demo');
  fs.mkdirSync(logs, { recursive: true });
  // The job and the view outlive the producer by the watermark plus a window and a batch, so the last
  // windows close on screen (the flush is the watermark: no reading comes after the producer stops).
  const tail = 25;
  const job = submit('stream', ['--duration', `${seconds + tail}s`], path.join(logs, 'job.log'));
  const children: ChildProcess[] = [job];
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGINT');
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  // Start producing once the live query runs (or after 60 s, whatever the log says): the view shows the
  // first live update a second or two after the first readings.
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000 && job.exitCode === null) {
    if (/started the live query|started \d+ queries/.test(fs.readFileSync(path.join(logs, 'job.log'), 'utf8'))) break;
    await sleep(500);
  }
  if (job.exitCode !== null) {
    process.stderr.write(`the streaming job ended early (exit ${job.exitCode}); see ${path.join(logs, 'job.log')}\n`);
    process.exit(1);
  }
  const producer = submit(
    'stream-produce',
    ['--duration', `${seconds}s`, '--rate', String(argv.rate), '--sensors', String(argv.sensors)],
    path.join(logs, 'producer.log'),
  );
  const watch = submit('stream-watch', ['--duration', `${seconds + tail}s`, '--rows', String(Math.min(argv.sensors, 30))], 'inherit');
  children.push(producer, watch);
  const codes = await Promise.all(children.map(exited));
  process.stderr.write(
    `demo done: job exit ${codes[0]}, producer exit ${codes[1]}, view exit ${codes[2]}; logs in ${path.relative(process.cwd(), logs)}/, metrics in reports/stream-metrics.json\n`,
  );
  process.exit(codes.every((c) => c === 0) ? 0 : 1);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
