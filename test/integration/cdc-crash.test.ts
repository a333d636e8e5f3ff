import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureKafka } from '../support/servers';
import type { ConsumerOptions } from '../../lib/cdc/consumer';
import { generateChanges, prng } from '../../lib/cdc/generator';
import { produceChanges } from '../../lib/cdc/produce';
import { readStoreReadOnly } from '../../lib/cdc/store';
import { readModelFile } from '../../lib/cdc/verify';
import { deleteTopics, syntheticCustomers } from './cdc-support';

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'test', 'support', 'cdc-consume-entry.ts');

type ChildOptions = Omit<ConsumerOptions, 'log' | 'signal' | 'onProgress'>;

/** Runs the consumer as a child process; `killAt` SIGKILLs it once it reports that many processed events. */
function runChild(
  opts: ChildOptions,
  killAt?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; killedAfter?: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ENTRY, JSON.stringify(opts)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let killedAfter: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAt === undefined || killedAfter !== undefined) return;
      const counts = [...out.matchAll(/cdc-consume: (\d+) events,/g)].map((m) => Number(m[1]));
      const seen = counts.length ? counts[counts.length - 1] : 0;
      if (seen >= killAt) {
        killedAfter = seen;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, killedAfter, out }));
  });
}

function snapshotOf(stateDir: string) {
  const m = readModelFile(stateDir);
  const { updated_at: _t, offsets: _o, ...model } = m;
  return {
    model,
    table: readStoreReadOnly(stateDir).state.liveRows(),
    keys: [...readStoreReadOnly(stateDir).state.keys].sort((a, b) => a[0] - b[0]),
  };
}

describe('cdc crash safety against real Kafka', function () {
  this.timeout(600_000);
  const root = path.join(os.tmpdir(), `cdc-crash-${randomUUID()}`);
  before(async () => {
    await ensureKafka();
  });
  const topics: string[] = [];
  after(async () => {
    fs.rmSync(root, { recursive: true, force: true });
    await deleteTopics(topics);
  });

  it('SIGKILL at a random point then a restart ends in the same model and table as an uninterrupted run (5 trials)', async () => {
    const topic = `cdc-crash-${randomUUID()}`;
    topics.push(topic);
    const produced = await produceChanges(
      generateChanges(syntheticCustomers(300, 21), { seed: 5, updates: 4000, replayRate: 0.03, malformedRate: 0.01 }),
      { topic, rate: 0, partitions: 3 },
    );
    const total = produced.sent;
    const base: ChildOptions = {
      topic,
      stateDir: '',
      lambda: 1,
      untilIdleSec: 3,
      checkpointEvents: 200,
      checkpointMs: 300,
      progressMs: 50,
      maxBytesPerPartition: 16 * 1024,
    };

    const reference = path.join(root, 'reference');
    const ref = await runChild({ ...base, stateDir: reference, groupId: `ref-${topic}` });
    expect(ref.code, ref.out).to.equal(0);
    const expected = snapshotOf(reference);
    expect(expected.model.events_applied + expected.model.events_skipped + expected.model.tombstones + expected.model.dlq).to.equal(total);

    const rand = prng(Date.now() >>> 0);
    const kills: number[] = [];
    for (let trial = 1; trial <= 5; trial++) {
      const stateDir = path.join(root, `trial-${trial}`);
      const opts = { ...base, stateDir, groupId: `trial-${trial}-${topic}` };
      const killAt = 1 + Math.floor(rand() * (total - 1));
      const first = await runChild(opts, killAt);
      if (first.signal === 'SIGKILL') kills.push(first.killedAfter!);
      const second = await runChild(opts);
      expect(second.code, second.out).to.equal(0);
      const got = snapshotOf(stateDir);
      expect(got.table, `trial ${trial}`).to.deep.equal(expected.table);
      expect(got.keys, `trial ${trial}`).to.deep.equal(expected.keys);
      expect(got.model, `trial ${trial}`).to.deep.equal(expected.model);
    }
    process.stdout.write(`      SIGKILL after ${kills.join(', ')} of ${total} messages\n`);
    // Most kills land while events are still being applied (the target is drawn over the whole stream).
    expect(kills.length, `kills: ${kills.join(', ')}`).to.be.at.least(4);
  });
});
