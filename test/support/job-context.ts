import * as path from 'node:path';
import type { JobContext } from '../../lib/cli/job';

/** A job's context as the runner gives it, for calling a job's `run` in-process: its log lines go to `logs`. */
export function testJobContext(bootstrapServers: string, logs: string[] = []): JobContext {
  return {
    signal: new AbortController().signal,
    verbose: false,
    root: process.cwd(),
    resolvePath: (p: string) => path.resolve(process.cwd(), p),
    bootstrapServers,
    interactive: false,
    log: (l) => logs.push(l),
    onShutdown: () => undefined,
  };
}
