import { isLoopback, resolveDashboardOptions, type DashboardArgs } from '../dashboard/options';
import { clearDashboardState, writeDashboardState } from '../dashboard/running';
import { startDashboard } from '../dashboard/server';
import { EXIT, type Io } from './output';
import { signalExitCode, trapSignals } from './shutdown';
import { errorMessage } from '../util/errors';

/** `spark-ts dashboard`: serves until Ctrl-C (or SIGTERM), then stops its consumer and server. */
export async function dashboard(args: DashboardArgs, io: Io): Promise<number> {
  let opts;
  try {
    opts = resolveDashboardOptions(args);
  } catch (e) {
    io.err(`spark-ts dashboard: ${errorMessage(e)}`);
    return EXIT.usage;
  }
  if (!isLoopback(opts.host)) {
    io.err(
      `spark-ts dashboard: WARNING: listening on ${opts.host}, not loopback: anyone who can reach this address sees the stream, the alerts and the reports (there is no login)`,
    );
  }
  const running = await startDashboard(opts);
  writeDashboardState({ pid: process.pid, url: running.url, started_at: new Date().toISOString() });
  io.err(`dashboard: ${running.url} (Kafka ${running.feed.currentStatus().bootstrap_servers}; model ${opts.modelFile}; Ctrl-C to stop)`);
  // Stopping a server on purpose is its normal end (exit 0); a second signal exits at once.
  const trap = await new Promise<ReturnType<typeof trapSignals>>((resolve) => {
    const t = trapSignals(
      () => resolve(t),
      (sig) => process.exit(signalExitCode(sig)),
    );
  });
  io.err(`dashboard: stopping (${trap.signal})`);
  try {
    await running.close();
  } finally {
    clearDashboardState();
    trap.dispose();
  }
  return EXIT.ok;
}
