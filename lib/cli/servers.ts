import { startSpark, stopSpark, sparkStatus } from '../runtime/spark-server';
import { startKafka, stopKafka, kafkaStatus } from '../runtime/kafka-broker';
import { rssBytes } from '../runtime/process';

export type ServerName = 'spark' | 'kafka';

/** `spark-ts up`: starts (or reuses) the embedded servers and says which. */
export async function up(which: ServerName[], out: (line: string) => void = console.log): Promise<void> {
  if (which.includes('spark')) {
    const t0 = Date.now();
    const { state, started } = await startSpark();
    out(`spark: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at ${state.url} (pid ${state.pid}, UI ${state.ui_url ?? 'unknown'})`);
  }
  if (which.includes('kafka')) {
    const t0 = Date.now();
    const { state, started } = await startKafka();
    out(`kafka: ${started ? `started in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'already running'} at ${state.bootstrap_servers} (pid ${state.pid})`);
  }
}

export async function down(which: ServerName[], out: (line: string) => void = console.log): Promise<void> {
  if (which.includes('spark')) out(`spark: ${await stopSpark()}`);
  if (which.includes('kafka')) out(`kafka: ${await stopKafka()}`);
}

/** `spark-ts status`: endpoints, pids, UI address and memory; never the token. */
export async function status(out: (line: string) => void = console.log): Promise<void> {
  const s = await sparkStatus();
  if (s.state && s.running) {
    const rss = rssBytes(s.state.pid);
    out(`spark: running${s.healthy ? '' : ' (not answering)'} at ${s.state.url}, pid ${s.state.pid}, master ${s.state.master}, UI ${s.state.ui_url ?? 'unknown'}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ''}`);
  } else out('spark: not running');
  const k = await kafkaStatus();
  if (k.state && k.running) {
    const rss = rssBytes(k.state.pid);
    out(`kafka: running${k.healthy ? '' : ' (not answering)'} at ${k.state.bootstrap_servers}, pid ${k.state.pid}${rss ? `, RSS ${(rss / 2 ** 20).toFixed(0)} MiB` : ''}`);
  } else out('kafka: not running');
}
