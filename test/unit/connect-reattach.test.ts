import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import { SparkConnectClient } from '../../lib/connect/client';
import { protoDir } from '../../lib/connect/proto';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../lib/connect/retry';
import { AnalysisException, OperationInterruptedError, SessionChangedError, SparkConnectError } from '../../lib/connect/errors';
import type { ExecutePlanResponse__Output } from '../../lib/connect/gen/spark/connect/ExecutePlanResponse';

interface Recorded {
  name: string;
  code: number;
  details: string;
  statusDetailsBin?: string;
}

/** Errors recorded from a live Spark 4.2 server by test/support/record-connect-errors.ts. */
function recorded(name: string): grpc.ServiceError {
  const file = path.resolve(__dirname, '..', 'fixtures', 'connect', 'grpc-errors.json');
  const r = (JSON.parse(fs.readFileSync(file, 'utf8')) as { recorded: Recorded[] }).recorded.find((x) => x.name === name)!;
  const metadata = new grpc.Metadata();
  if (r.statusDetailsBin) metadata.set('grpc-status-details-bin', Buffer.from(r.statusDetailsBin, 'base64'));
  return Object.assign(new Error(r.details), { code: r.code, details: r.details, metadata });
}
const unavailable = () =>
  Object.assign(new Error('Connection dropped'), {
    code: grpc.status.UNAVAILABLE,
    details: 'Connection dropped',
    metadata: new grpc.Metadata(),
  });

const response = (id: string, extra: Partial<ExecutePlanResponse__Output> = {}) =>
  ({ response_id: id, server_side_session_id: 'srv-1', ...extra }) as ExecutePlanResponse__Output;
const complete = (id: string) => response(id, { result_complete: {} } as Partial<ExecutePlanResponse__Output>);

/** The server holding the stream open this long with nothing to send. */
interface Hold {
  holdMs: number;
}
type Step = Array<ExecutePlanResponse__Output | Error | Hold>;

/**
 * A client whose streams play a script: each ExecutePlan/ReattachExecute call takes the next step (responses
 * in order, an Error thrown where it stands). Unary calls (ReleaseExecute, FetchErrorDetails) are recorded.
 */
function scripted(steps: Step[], policy: Partial<RetryPolicy> = {}) {
  const fast: RetryPolicy = { ...DEFAULT_RETRY_POLICY, initialBackoffMs: 1, maxBackoffMs: 2, jitterMs: 0, maxRetries: 5, ...policy };
  const client = new SparkConnectClient(
    { host: '127.0.0.1', port: 1, userId: 'u', useSsl: false, sessionId: '00000000-0000-4000-8000-000000000000', userAgent: 't' },
    { retryPolicy: fast, firstConnectRetryPolicy: fast },
  );
  const calls: Array<{ method: string; lastResponseId?: string }> = [];
  const unary: string[] = [];
  const t = client.transport as unknown as Record<string, unknown>;
  t.stream = async function* (method: string, request: { last_response_id?: string }) {
    calls.push({ method, ...(request.last_response_id ? { lastResponseId: request.last_response_id } : {}) });
    const step = steps.shift() ?? [];
    for (const item of step) {
      if (item instanceof Error) throw item;
      if ('holdMs' in item) await new Promise((r) => setTimeout(r, item.holdMs));
      else yield item;
    }
  };
  t.unary = async (method: string) => {
    unary.push(method);
    if (method === 'FetchErrorDetails') return { root_error_idx: undefined, errors: [] };
    return {};
  };
  return { client, calls, unary };
}

async function drain(client: SparkConnectClient): Promise<string[]> {
  const ids: string[] = [];
  for await (const r of client.execute({ root: { range: { start: '0', end: '1', step: '1' } } })) ids.push(r.response_id);
  return ids;
}

describe('connect reattach semantics (scripted streams)', () => {
  it('a failure before any response reattaches first; OPERATION_NOT_FOUND then re-sends ExecutePlan', async () => {
    const { client, calls } = scripted([[unavailable()], [recorded('reattach to an unknown operation')], [response('r1'), complete('r2')]]);
    expect(await drain(client)).to.deep.equal(['r1', 'r2']);
    expect(calls.map((c) => c.method)).to.deep.equal(['ExecutePlan', 'ReattachExecute', 'ExecutePlan']);
  });

  it('a broken stream resumes after the last response it saw, and the operation runs once', async () => {
    const { client, calls, unary } = scripted([
      [response('r1'), response('r2'), unavailable()],
      [response('r3'), complete('r4')],
    ]);
    expect(await drain(client)).to.deep.equal(['r1', 'r2', 'r3', 'r4']);
    expect(calls).to.deep.equal([{ method: 'ExecutePlan' }, { method: 'ReattachExecute', lastResponseId: 'r2' }]);
    await new Promise((r) => setImmediate(r));
    expect(unary.filter((m) => m === 'ReleaseExecute').length).to.be.at.least(2); // release_until as consumed, release_all at the end
  });

  it('OPERATION_NOT_FOUND after responses is RESPONSE_ALREADY_RECEIVED, never a re-run', async () => {
    const { client, calls } = scripted([[response('r1'), unavailable()], [recorded('reattach to an unknown operation')]]);
    const err = await drain(client).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SparkConnectError);
    expect((err as SparkConnectError).errorClass).to.equal('RESPONSE_ALREADY_RECEIVED');
    expect(calls.filter((c) => c.method === 'ExecutePlan')).to.have.length(1);
  });

  it('a Spark error is reported at once: no reattach, no retry', async () => {
    const { client, calls } = scripted([[recorded('streaming source in a batch query')]]);
    const retries: unknown[] = [];
    client.on('retry', (e) => retries.push(e));
    const err = await drain(client).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AnalysisException);
    expect((err as Error).message).to.match(/writeStream\.start\(\)/);
    expect(calls).to.have.length(1);
    expect(retries).to.have.length(0);
  });

  it('a stream that ends after progress reattaches at once; an empty one backs off', async () => {
    const { client, calls } = scripted([[response('r1')], [], [complete('r2')]]);
    const retries: unknown[] = [];
    client.on('retry', (e) => retries.push(e));
    expect(await drain(client)).to.deep.equal(['r1', 'r2']);
    expect(calls.map((c) => c.method)).to.deep.equal(['ExecutePlan', 'ReattachExecute', 'ReattachExecute']);
    expect(retries).to.have.length(1);
  });

  it('an empty stream the server held open (a wait on the server) reattaches at once, without spending the retry budget', async function () {
    this.timeout(10_000);
    // One retry allowed in all: two held streams in a row must still not fail the operation.
    const { client, calls } = scripted([[{ holdMs: 1100 }], [{ holdMs: 1100 }], [complete('r1')]], { maxRetries: 1 });
    const retries: unknown[] = [];
    client.on('retry', (e) => retries.push(e));
    expect(await drain(client)).to.deep.equal(['r1']);
    expect(calls.map((c) => c.method)).to.deep.equal(['ExecutePlan', 'ReattachExecute', 'ReattachExecute']);
    expect(retries).to.have.length(0);
  });

  it('SESSION_CHANGED from the server closes the client', async () => {
    // As the server sends it: INTERNAL with the error class in a google.rpc.ErrorInfo status detail.
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(protoDir(), target);
    root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
    const info = root.lookupType('google.rpc.ErrorInfo').encode({
      reason: 'org.apache.spark.SparkSQLException',
      domain: 'org.apache.spark',
      metadata: { errorClass: 'INVALID_HANDLE.SESSION_CHANGED', classes: '["org.apache.spark.SparkSQLException"]' },
    });
    const details = '[INVALID_HANDLE.SESSION_CHANGED] The handle is invalid. The existing Spark server driver instance has restarted.';
    const status = root.lookupType('google.rpc.Status').encode({
      code: grpc.status.INTERNAL,
      message: details,
      details: [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: info.finish() }],
    });
    const metadata = new grpc.Metadata();
    metadata.set('grpc-status-details-bin', Buffer.from(status.finish()));
    const changed = Object.assign(new Error(details), { code: grpc.status.INTERNAL, details, metadata });
    const { client, calls } = scripted([[changed]]);
    const err = await drain(client).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SessionChangedError);
    expect(client.closed).to.equal(true);
    const again = await drain(client).catch((e: unknown) => e);
    expect(again).to.be.instanceOf(SessionChangedError);
    expect(calls).to.have.length(1); // the closed client sends nothing more
  });

  it('an abort during a retry backoff sends no further attempt', async () => {
    const { client, calls } = scripted([[unavailable()], [complete('r1')]], { initialBackoffMs: 300, maxBackoffMs: 300 });
    const abort = new AbortController();
    client.on('retry', () => setTimeout(() => abort.abort(), 20));
    const err = await (async () => {
      for await (const _ of client.execute({ root: { range: { start: '0', end: '1', step: '1' } } }, { signal: abort.signal })) void _;
    })().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OperationInterruptedError);
    expect(calls.map((c) => c.method)).to.deep.equal(['ExecutePlan']);
  });

  it('a failed upload of a cached relation fails no unrelated request; the next request naming it uploads it again', async () => {
    const { client } = scripted([[complete('a')], [complete('b')]]);
    const t = client.transport as unknown as Record<string, unknown>;
    const unary = t.unary as (m: string, ...rest: unknown[]) => Promise<unknown>;
    t.unary = async (m: string, ...rest: unknown[]) => (m === 'ArtifactStatus' ? { statuses: {} } : unary(m, ...rest));
    let sends = 0;
    t.clientStream = async (_m: string, requests: Array<{ batch: { artifacts: Array<{ name: string }> } }>) => {
      sends++; // the first upload arrives corrupted, the second intact
      return { artifacts: [{ name: requests[0].batch.artifacts[0].name, is_crc_successful: sends > 1 }] };
    };
    const hash = client.cacheArtifact(new Uint8Array([1, 2, 3]));
    expect(await drain(client)).to.deep.equal(['a']);
    const ids: string[] = [];
    for await (const r of client.execute({ root: { cached_local_relation: { hash } } })) ids.push(r.response_id);
    expect(ids).to.deep.equal(['b']);
    expect(sends).to.equal(2);
  });

  it('a changed server-side session id fails and closes the client', async () => {
    const { client } = scripted([
      [response('r1'), response('r2', { server_side_session_id: 'srv-2' } as Partial<ExecutePlanResponse__Output>)],
      [],
    ]);
    const err = await drain(client).catch((e: unknown) => e);
    expect((err as SparkConnectError).errorClass).to.equal('INVALID_HANDLE.SESSION_CHANGED');
    const again = await drain(client).catch((e: unknown) => e);
    expect((again as SparkConnectError).errorClass).to.equal('INVALID_HANDLE.SESSION_CHANGED');
  });
});
