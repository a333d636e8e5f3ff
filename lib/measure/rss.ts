import { rssBytes } from '../runtime/process';

/** Samples the RSS of a few processes every `intervalMs` and keeps each one's peak since the last reset. */
export class RssSampler {
  private peaks = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly pids: Record<string, number | undefined>,
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): Record<string, number | undefined> {
    const now: Record<string, number | undefined> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const rss = pid ? rssBytes(pid) : undefined;
      now[name] = rss;
      if (rss !== undefined) this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, rss));
    }
    return now;
  }

  /** Peaks since the last call, then starts over. */
  takePeaks(): Record<string, number | undefined> {
    this.sample();
    const out = Object.fromEntries(Object.keys(this.pids).map((k) => [k, this.peaks.get(k)]));
    this.peaks.clear();
    return out;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
