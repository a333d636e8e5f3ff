// A/B reproduction (docs/cluster.md): kafkajs's own multi-partition send ("old") against sendBatch, one
// request per partition ("new"), through a SIGKILL and restart of partition 0's leader on 3 brokers; prints
// acked vs broker counts per partition. Needs `spark-ts up kafka --brokers 3` first (SPARK_TS_RUN_DIR of
// its own); run: npx ts-node scripts/kafkajs-failover-ab.ts (ORDER=old,new,old,new).
import * as path from 'node:path';
import { CompressionTypes, type Message } from 'kafkajs';
import { spawnSync } from 'node:child_process';
import { connectIdempotentProducer, ensureTopics, sendBatch, streamKafka } from '../lib/stream/kafka';
import { SensorSimulator } from '../lib/stream/simulate';
import { groupByPartition } from '../lib/kafka/produce';
import { readKafkaState } from '../lib/runtime/kafka-broker';
import { ROOT } from '../lib/runtime/paths';
import { sleep } from '../lib/connect';

async function trial(variant: 'old' | 'new', n: number) {
  const servers = readKafkaState()!.bootstrap_servers;
  const kafka = streamKafka('h19-ab', servers);
  const admin = kafka.admin();
  await admin.connect();
  const topic = `h19-ab-${variant}-${n}-${Date.now()}`;
  await ensureTopics(admin, [topic], 2);
  const meta = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions;
  const victim = meta.find((p) => p.partitionId === 0)!.leader;
  const producer = await connectIdempotentProducer(kafka, servers);
  const sim = new SensorSimulator({ sensors: 3, seed: n, anomalyRate: 0, lateRate: 0, maxLatenessMs: 1, malformedRate: 0 });
  const acked: Record<number, number> = {};
  let sent = 0,
    failed = 0,
    killed = false,
    restarted = false;
  const t0 = Date.now();
  for (let b = 0; b < 120; b++) {
    const msgs: Message[] = [0, 1, 2].map(() => {
      const e = sim.next(t0 + b * 1000);
      return { key: e.key, value: e.value };
    });
    try {
      if (variant === 'old') {
        await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: msgs });
        for (const [p, l] of groupByPartition(topic, meta, msgs)) acked[p] = (acked[p] ?? 0) + l.length;
      } else {
        for (const [p, k] of await sendBatch(producer, topic, msgs)) acked[p] = (acked[p] ?? 0) + k;
      }
      sent += 3;
    } catch (e) {
      failed += 3;
      console.log('failed', (e as Error).message);
    }
    if (!killed && sent >= 30) {
      killed = true;
      const pid = readKafkaState()!.brokers!.find((x) => x.node_id === victim)!.pid;
      process.kill(-pid, 'SIGKILL');
    }
    if (killed && !restarted && sent >= 150) {
      restarted = true;
      const r = spawnSync(path.join(ROOT, 'bin', 'spark-ts'), ['up', 'kafka', '--brokers', '3'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
    }
    await sleep(50);
  }
  await producer.disconnect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const onBroker = Object.fromEntries(offsets.map((o) => [o.partition, Number(o.high) - Number(o.low)]));
  const lost = Object.keys(acked).reduce((s, p) => s + Math.max(0, acked[Number(p)] - (onBroker[p] ?? 0)), 0);
  console.log(
    `${variant} trial ${n}: acked ${JSON.stringify(acked)} broker ${JSON.stringify(onBroker)} failed ${failed} lost ${lost} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

async function main() {
  const order = (process.env.ORDER ?? 'old,new,old,new').split(',') as Array<'old' | 'new'>;
  for (let i = 0; i < order.length; i++) await trial(order[i], i + 1);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
