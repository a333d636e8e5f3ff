import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runStepGroup, stepGroups, StepFailed, type Step, type StepResult } from '../../lib/pipeline/steps';

/** A step that runs a shell command (the runner spawns `/bin/sh` with these arguments). */
function shell(name: string, command: string, alongsideNext = false): Step {
  return { name, args: ['-c', command], summarize: () => `${name} done`, alongsideNext };
}

describe('make run: steps that run beside the next one', () => {
  let logs: string;
  before(() => (logs = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-steps-'))));
  after(() => fs.rmSync(logs, { recursive: true, force: true }));

  /** Runs a group of shell steps, timed. */
  const runGroup = async (steps: Step[], report: (k: number, o: StepResult | StepFailed) => void = () => undefined) => {
    const t0 = performance.now();
    const done = await runStepGroup(steps, '/bin/sh', logs, process.env, new AbortController().signal, report);
    return { ...done, seconds: (performance.now() - t0) / 1000 };
  };

  it('groups a step marked alongsideNext with the step after it', () => {
    const steps = [shell('a', 'true'), shell('produce', 'true', true), shell('job', 'true'), shell('watch', 'true')];
    expect(stepGroups(steps).map((g) => g.map((s) => s.name))).to.deep.equal([['a'], ['produce', 'job'], ['watch']]);
  });

  it('runs a group together: each is reported as it ends, the results come in the group order', async function () {
    this.timeout(20_000);
    const reported: string[] = [];
    const done = await runGroup([shell('slow', 'sleep 1', true), shell('fast', 'true')], (k, o) =>
      reported.push(`${k} ${o instanceof StepFailed ? 'failed' : 'ok'}`),
    );
    expect(done.failure).to.equal(undefined);
    expect(reported).to.deep.equal(['1 ok', '0 ok']);
    expect(done.results.map((r: StepResult) => r.name)).to.deep.equal(['slow', 'fast']);
    // Together, not one after the other: the group takes the slow step's time, not the sum (loose bound).
    expect(done.seconds).to.be.below(1 + 2);
  });

  it('a failed step stops the one beside it, and the failure named is the first', async function () {
    this.timeout(20_000);
    const done = await runGroup([shell('producer', 'exec sleep 60', true), shell('job', 'sleep 0.2; exit 3')]);
    expect(done.failure?.step).to.equal('job');
    expect(done.failure?.code).to.equal(3);
    expect(done.results).to.deep.equal([]);
    expect(done.seconds).to.be.below(10);
  });
});
