import { expect } from 'chai';
import { ProgressReporter, progressLine, progressTotals } from '../../lib/cli/progress';
import type { ExecutionProgressEvent } from '../../lib/connect/client';

function event(done: number, total: number, op = 'op-0123456789'): ExecutionProgressEvent {
  return {
    operationId: op,
    stages: [
      { stageId: 0, numTasks: 2, numCompletedTasks: 2, inputBytesRead: 2048, done: true },
      { stageId: 1, numTasks: total - 2, numCompletedTasks: done - 2, inputBytesRead: 0, done: false },
    ],
    inflightTasks: 2,
    fraction: done / total,
  };
}

/** A stand-in for process.stderr that records what is written. */
function sink(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = { write: (s: string) => (lines.push(s), true), isTTY: false } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe('cli: progress', () => {
  it('sums tasks and stages over the reported stages', () => {
    expect(progressTotals(event(5, 10))).to.deep.equal({ done: 5, total: 10, stages: 2, stagesDone: 1, bytes: 2048 });
    expect(progressLine(event(5, 10), 12_000)).to.equal(
      'spark: operation op-01234 50% (5/10 tasks, 1/2 stages done, 2 running, 2.0 KiB read, 12s)',
    );
  });

  it('off a TTY: quiet for quick operations, then at most one plain line per interval', () => {
    let now = 0;
    const { stream, lines } = sink();
    const p = new ProgressReporter({ stream, interactive: false, minDurationMs: 1000, lineIntervalMs: 5000, now: () => now });
    p.onProgress(event(3, 10)); // first seen at 0: too early
    now = 500;
    p.onProgress(event(4, 10));
    expect(lines).to.deep.equal([]);
    now = 1000;
    p.onProgress(event(5, 10));
    now = 3000;
    p.onProgress(event(6, 10)); // within the interval
    now = 6000;
    p.onProgress(event(9, 10));
    expect(lines.map((l) => l.match(/\d+%/)?.[0])).to.deep.equal(['50%', '90%']);
    p.log('a line for people');
    expect(lines.at(-1)).to.equal('a line for people\n');
    p.stop();
  });

  it('tracks operations separately', () => {
    let now = 0;
    const { stream, lines } = sink();
    const p = new ProgressReporter({ stream, interactive: false, minDurationMs: 0, lineIntervalMs: 10_000, now: () => now });
    p.onProgress(event(3, 10, 'a-operation'));
    p.onProgress(event(3, 10, 'b-operation'));
    now = 1;
    p.onProgress(event(4, 10, 'a-operation'));
    expect(lines).to.have.length(2);
    expect(lines[0]).to.include('a-operat');
    expect(lines[1]).to.include('b-operat');
  });
});
