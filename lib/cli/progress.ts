import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { ExecutionProgressEvent } from '../connect/client';
import { formatBytes } from '../util/bytes';

export interface ProgressOptions {
  /** Where bars and lines go (stderr: stdout stays for data). */
  stream: NodeJS.WriteStream;
  /** A bar that redraws in place (TTY) or plain periodic lines (pipes, CI logs). */
  interactive: boolean;
  /** An operation is shown only once it has run this long, so quick queries stay quiet. */
  minDurationMs?: number;
  /** Off a TTY: at most one line per operation per interval. */
  lineIntervalMs?: number;
  now?: () => number;
}

interface Operation {
  id: string;
  firstSeen: number;
  lastLine: number;
  bar?: SingleBar;
}

/** Totals of a progress event: tasks over every stage the server reported so far. */
export function progressTotals(e: ExecutionProgressEvent): {
  done: number;
  total: number;
  stages: number;
  stagesDone: number;
  bytes: number;
} {
  let done = 0;
  let total = 0;
  let stagesDone = 0;
  let bytes = 0;
  for (const s of e.stages) {
    done += s.numCompletedTasks;
    total += s.numTasks;
    bytes += s.inputBytesRead;
    if (s.done) stagesDone++;
  }
  return { done, total, stages: e.stages.length, stagesDone, bytes };
}

/** One plain progress line (the off-TTY form). */
export function progressLine(e: ExecutionProgressEvent, elapsedMs: number): string {
  const t = progressTotals(e);
  const pct = t.total ? Math.floor((100 * t.done) / t.total) : 0;
  return (
    `spark: operation ${e.operationId.slice(0, 8)} ${pct}% (${t.done}/${t.total} tasks, ` +
    `${t.stagesDone}/${t.stages} stages done, ${e.inflightTasks} running, ${formatBytes(t.bytes)} read, ${(elapsedMs / 1000).toFixed(0)}s)`
  );
}

/**
 * Shows the server's execution progress for long Spark actions: a cli-progress bar on a TTY, plain lines
 * otherwise. Feed it the session's 'progress' events; route log lines through `log` so they print above
 * the bar instead of through it.
 */
export class ProgressReporter {
  private readonly minDurationMs: number;
  private readonly lineIntervalMs: number;
  private readonly now: () => number;
  private readonly ops = new Map<string, Operation>();
  private multibar?: MultiBar;
  private current?: Operation;

  constructor(private readonly opts: ProgressOptions) {
    // A bar redraws in place, so it may show early; plain lines stay in logs, so only for really long actions.
    this.minDurationMs = opts.minDurationMs ?? (opts.interactive ? 1500 : 5000);
    this.lineIntervalMs = opts.lineIntervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The listener to register with `spark.on('progress', ...)`. */
  readonly onProgress = (e: ExecutionProgressEvent): void => {
    const t = this.now();
    let op = this.ops.get(e.operationId);
    if (!op) {
      op = { id: e.operationId, firstSeen: t, lastLine: -Infinity };
      this.ops.set(e.operationId, op);
    }
    const elapsed = t - op.firstSeen;
    if (elapsed < this.minDurationMs) return;
    if (this.opts.interactive) this.drawBar(op, e);
    else if (t - op.lastLine >= this.lineIntervalMs) {
      op.lastLine = t;
      this.opts.stream.write(`${progressLine(e, elapsed)}\n`);
    }
  };

  private drawBar(op: Operation, e: ExecutionProgressEvent): void {
    const totals = progressTotals(e);
    if (!this.multibar) {
      this.multibar = new MultiBar(
        {
          stream: this.opts.stream,
          format: 'spark {op} [{bar}] {percentage}% | {value}/{total} tasks | stages {stagesDone}/{stages} | {duration_formatted}',
          hideCursor: true,
          clearOnComplete: false,
          fps: 5,
        },
        Presets.shades_classic,
      );
    }
    if (this.current !== op) {
      // A new operation: the previous one's bar stays as its last state, the new one draws below it.
      this.current = op;
    }
    const payload = { op: op.id.slice(0, 8), stages: totals.stages, stagesDone: totals.stagesDone };
    if (!op.bar) op.bar = this.multibar.create(Math.max(totals.total, 1), totals.done, payload);
    else {
      op.bar.setTotal(Math.max(totals.total, 1));
      op.bar.update(totals.done, payload);
    }
  }

  /** A line for people, printed above any bar. */
  log(line: string): void {
    const text = line.endsWith('\n') ? line : `${line}\n`;
    if (this.multibar?.isActive) {
      this.multibar.log(text);
      this.multibar.update(); // draws now: a buffered line would be lost if the bars stop before the next frame
    } else this.opts.stream.write(text);
  }

  /** Ends the bars (call once, when the command is done). */
  stop(): void {
    this.multibar?.stop();
    this.multibar = undefined;
  }
}
