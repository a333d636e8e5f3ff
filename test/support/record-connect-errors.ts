// Records raw gRPC errors of a live Spark Connect server into test/fixtures/connect/grpc-errors.json, for
// the unit tests of error classification (test/unit/connect-retry.test.ts). Re-run after a Spark upgrade:
//   node -r ts-node/register/transpile-only test/support/record-connect-errors.ts
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { loadProtocol } from '../../lib/connect/proto';
import { ensureSpark, stopStartedServers } from './servers';

interface Recorded {
  name: string;
  code: number;
  details: string;
  statusDetailsBin?: string;
}

async function main(): Promise<void> {
  const state = await ensureSpark();
  const proto = loadProtocol();
  const md = new grpc.Metadata();
  if (state.token) md.set('authorization', `Bearer ${state.token}`);
  const client = new proto.spark.connect.SparkConnectService(`127.0.0.1:${state.port}`, grpc.credentials.createInsecure());
  const session = { session_id: randomUUID(), user_context: { user_id: 'recorder' }, client_type: 'recorder' };
  const out: Recorded[] = [];
  const record = (name: string, err: grpc.ServiceError) => {
    const bin = err.metadata?.get('grpc-status-details-bin')[0];
    out.push({
      name,
      code: err.code,
      details: err.details,
      ...(bin instanceof Buffer ? { statusDetailsBin: bin.toString('base64') } : {}),
    });
  };
  const stream = (name: string, method: 'ExecutePlan' | 'ReattachExecute', req: object) =>
    new Promise<void>((resolve) => {
      const call = (
        client as unknown as Record<string, (this: unknown, req: object, md: grpc.Metadata) => grpc.ClientReadableStream<unknown>>
      )[method].call(client, req, md);
      call.on('data', () => undefined);
      call.on('error', (e: grpc.ServiceError) => (record(name, e), resolve()));
      call.on('end', resolve);
    });
  const sql = (query: string) => ({ ...session, operation_id: randomUUID(), plan: { root: { sql: { query } } } });
  await stream('table not found', 'ExecutePlan', sql('SELECT * FROM no_such_table_recorded'));
  await stream('division by zero', 'ExecutePlan', sql('SELECT 1/0'));
  await stream(
    'user error naming a connection and a stream',
    'ExecutePlan',
    sql("SELECT raise_error('Connection refused by the JDBC stream')"),
  );
  await stream('streaming source in a batch query', 'ExecutePlan', {
    ...session,
    operation_id: randomUUID(),
    plan: { root: { read: { data_source: { format: 'rate' }, is_streaming: true } } },
  });
  await stream('reattach to an unknown operation', 'ReattachExecute', { ...session, operation_id: randomUUID() });
  // A closed port: what grpc-js reports when nothing listens.
  const free = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const closed = new proto.spark.connect.SparkConnectService(`127.0.0.1:${free}`, grpc.credentials.createInsecure());
  await new Promise<void>((resolve) =>
    closed.AnalyzePlan(
      { ...session, spark_version: {} },
      md,
      { deadline: Date.now() + 3000 },
      (e) => (record('closed port', e as grpc.ServiceError), resolve()),
    ),
  );
  closed.close();
  client.close();
  const file = path.resolve(__dirname, '..', 'fixtures', 'connect', 'grpc-errors.json');
  fs.writeFileSync(file, `${JSON.stringify({ spark: '4.2.0', recorded: out }, null, 2)}\n`);
  console.log(`wrote ${out.length} errors to ${file}`);
  await stopStartedServers();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
