import { isRunning } from '../lib/runtime/process';
import { startedServers, stopStartedServers } from './support/servers';

/**
 * Mocha root hooks: after the whole suite, stop the servers this run started and check that no JVM of
 * theirs is left behind (servers that were already running before the run are left alone).
 */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    const started = startedServers();
    await stopStartedServers();
    const left = started.filter((s) => isRunning(s.pid));
    if (left.length)
      throw new Error(`servers started by the suite are still running: ${left.map((s) => `${s.name} pid ${s.pid}`).join(', ')}`);
  },
};
