import { createKafka } from '../../lib/kafka/config';
import { RAW_FEATURE_COLUMNS, type CustomerRow } from '../../lib/cdc/features';
import { prng } from '../../lib/cdc/generator';

/** Small synthetic customers with the columns the consumer's default model reads. */
export function syntheticCustomers(count: number, seed: number, firstId = 1): CustomerRow[] {
  const r = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  return Array.from({ length: count }, (_, i) => {
    const row: CustomerRow = { ID: firstId + i, Education: 'Graduation', Marital_Status: 'Single', Dt_Customer: '2013-05-01' };
    row.Year_Birth = int(1945, 1995);
    for (const f of RAW_FEATURE_COLUMNS)
      row[f] =
        f.startsWith('Accepted') || f === 'Complain'
          ? r() < 0.15
            ? 1
            : 0
          : f === 'Income'
            ? int(15_000, 120_000)
            : int(0, f.startsWith('Mnt') ? 900 : 12);
    row.Response = r() < 0.1 + 0.5 * ((row.MntWines as number) / 900) ? 1 : 0;
    return row;
  });
}

/** Every message of a (small) topic, read from the beginning with a throwaway group. */
export async function readTopic(
  topic: string,
  expected: number,
  timeoutMs = 20_000,
): Promise<Array<{ key: string | null; value: string | null; headers: Record<string, string> }>> {
  const kafka = createKafka('cdc-test-reader');
  const consumer = kafka.consumer({ groupId: `cdc-test-reader-${topic}-${Date.now()}` });
  const out: Array<{ key: string | null; value: string | null; headers: Record<string, string> }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          out.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
          if (out.length >= expected) {
            clearTimeout(timer);
            // A little longer, to see extra messages if there are any.
            setTimeout(resolve, 1000);
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Deletes the topics a test created (and their DLQs), so the shared broker does not accumulate them. */
export async function deleteTopics(prefixes: string[]): Promise<void> {
  if (!prefixes.length) return;
  const admin = createKafka('cdc-test-cleanup').admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => prefixes.some((p) => t === p || t === `${p}_dlq`));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
