import { startKafka, kafkaStatus } from '../lib/runtime/kafka-broker';
(async () => {
  const t0 = Date.now();
  const r = await startKafka();
  console.log('started', r.started, r.state, 'ms', Date.now() - t0);
  console.log(await kafkaStatus().then(s => ({running: s.running, healthy: s.healthy})));
})().catch(e => { console.error(e); process.exit(1); });
