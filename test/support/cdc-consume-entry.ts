/**
 * Runs the CDC consumer in its own process (crash tests, benchmarks): the options come as one JSON
 * argument. Prints log lines on stdout and exits 0 when it stops, 1 on an error.
 *   node -r ts-node/register/transpile-only test/support/cdc-consume-entry.ts '{"topic":"t","stateDir":"/tmp/s",...}'
 */
import { runCdcConsumer, type ConsumerOptions } from '../../lib/cdc/consumer';
import { errorMessage } from '../../lib/util/errors';

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as Omit<ConsumerOptions, 'log' | 'signal'>;
  const abort = new AbortController();
  process.on('SIGTERM', () => abort.abort());
  process.on('SIGINT', () => abort.abort());
  const summary = await runCdcConsumer({ ...opts, signal: abort.signal, log: (line) => process.stdout.write(line + '\n') });
  process.stdout.write(`DONE ${JSON.stringify({ events_processed: summary.events_processed, n: summary.model.n })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).name}: ${errorMessage(e)}\n`);
  process.exit(1);
});
