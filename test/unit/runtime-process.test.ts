import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { RuntimeError, spawnDaemon, withStartLock } from '../../lib/runtime/process';

describe('runtime: starting servers (no server needed)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-process-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('two starts of the same server take turns (withStartLock), and the lock is released either way', async () => {
    const state = path.join(dir, 'kafka.json');
    const events: string[] = [];
    const start = (name: string, fail = false) =>
      withStartLock(state, async () => {
        events.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 100));
        events.push(`${name} out`);
        if (fail) throw new Error(`${name} failed`);
        return name;
      });
    const results = await Promise.allSettled([start('a', true), start('b')]);
    expect(events).to.deep.equal(['a in', 'a out', 'b in', 'b out']);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'fulfilled']);
    expect(fs.existsSync(`${state}.lock`)).to.equal(false);
  });

  it('a lock left by a process that is gone is taken over; one held by a live process is waited for', async () => {
    const state = path.join(dir, 'spark.json');
    const gone = spawnSync('true').pid!; // exited and reaped: its pid is free
    fs.writeFileSync(`${state}.lock`, String(gone));
    expect(await withStartLock(state, async () => 'started')).to.equal('started');
    fs.writeFileSync(`${state}.lock`, String(process.pid)); // "another command" that never finishes
    const err = await withStartLock(state, async () => 'never', 300).catch((e: Error) => e);
    expect(err).to.be.instanceOf(RuntimeError);
    expect((err as Error).message).to.match(new RegExp(`another command \\(pid ${process.pid}\\) has been starting this server`));
  });

  it('a command that cannot be spawned is a clear error, not a crash a tick later', async () => {
    const log = path.join(dir, 'x.log');
    expect(() => spawnDaemon('/no/such/binary', [], { logFile: log })).to.throw(RuntimeError, /could not start \/no\/such\/binary/);
    await new Promise((r) => setTimeout(r, 50)); // the child's 'error' event fires now: it must not be unhandled
  });
});
