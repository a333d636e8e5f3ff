import cliProgress from 'cli-progress';

/** Progress of a long count (a job's messages or changes): a cli-progress bar on a TTY, a plain line every `everyMs` otherwise. */
export interface CountProgress {
  update(done: number, fields: Record<string, string | number>): void;
  stop(): void;
}

export function countProgress(opts: {
  interactive: boolean;
  /** The known total, or undefined for an open-ended run (the bar then shows elapsed time instead). */
  total?: number;
  label: string;
  /** The bar's cli-progress format, instead of the one made from `label` and the fields. */
  format?: string;
  log: (line: string) => void;
  everyMs?: number;
  /** Plain line text from the fields. */
  plain: (done: number, fields: Record<string, string | number>) => string;
}): CountProgress {
  if (opts.interactive) {
    const format =
      opts.format ??
      (opts.total
        ? `${opts.label} [{bar}] {percentage}% | {value}/{total} | {fields}`
        : `${opts.label} {value} | {duration_formatted} | {fields}`);
    const bar = new cliProgress.SingleBar(
      { format, hideCursor: true, clearOnComplete: false, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    bar.start(opts.total ?? 0, 0, { fields: '' });
    return {
      update(done, fields) {
        bar.update(done, {
          fields: Object.entries(fields)
            .map(([k, v]) => `${k} ${v}`)
            .join(' | '),
        });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const every = opts.everyMs ?? 5000;
  let last = 0;
  return {
    update(done, fields) {
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      opts.log(opts.plain(done, fields));
    },
    stop() {},
  };
}
