import { startSpark, sparkStatus } from '../lib/runtime/spark-server';
(async () => {
  const t0 = Date.now();
  const r = await startSpark();
  console.log('started', r.started, 'pid', r.state.pid, 'ui', r.state.ui_url, 'ms', Date.now() - t0);
  console.log(await sparkStatus().then(s => ({running: s.running, healthy: s.healthy})));
})().catch(e => { console.error(e); process.exit(1); });
