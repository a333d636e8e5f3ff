import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import {
  sleep,
  DEFAULT_RETRY_POLICY,
  FIRST_CONNECT_RETRY_POLICY,
  backoffMs,
  isRetryableError,
  retryDelayMs,
  sparkErrorClass,
  withRetries,
  worstCaseRetryMs,
  type RetryPolicy,
} from '../../lib/connect/retry';
import { errorDetailsFromResponse } from '../../lib/connect/transport';
import { SparkConnectError } from '../../lib/connect/errors';
import type { FetchErrorDetailsResponse__Output } from '../../lib/connect/gen/spark/connect/FetchErrorDetailsResponse';

interface Recorded {
  name: string;
  code: number;
  details: string;
  statusDetailsBin?: string;
}

/** Errors recorded from a live Spark 4.2 server by test/support/record-connect-errors.ts. */
function recorded(name: string): grpc.ServiceError {
  const file = path.resolve(__dirname, '..', 'fixtures', 'connect', 'grpc-errors.json');
  const r = (JSON.parse(fs.readFileSync(file, 'utf8')) as { recorded: Recorded[] }).recorded.find((x) => x.name === name);
  if (!r) throw new Error(`no recorded error "${name}"`);
  const metadata = new grpc.Metadata();
  if (r.statusDetailsBin) metadata.set('grpc-status-details-bin', Buffer.from(r.statusDetailsBin, 'base64'));
  return Object.assign(new Error(r.details), { code: r.code, details: r.details, metadata });
}

function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

const fast: RetryPolicy = {
  ...DEFAULT_RETRY_POLICY,
  initialBackoffMs: 1,
  backoffMultiplier: 2,
  maxBackoffMs: 4,
  jitterMs: 0,
  maxRetries: 5,
  maxElapsedMs: 10_000,
};

describe('connect retry policy', () => {
  it('backs off ×4 from 50 ms up to the 60 s cap, as PySpark', () => {
    const delays = Array.from({ length: 9 }, (_, i) => backoffMs(DEFAULT_RETRY_POLICY, i));
    expect(delays).to.deep.equal([50, 200, 800, 3200, 12800, 51200, 60000, 60000, 60000]);
  });

  it('adds jitter in [0, jitterMs) only to backoffs at or above the threshold', () => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 0, () => 0.999)).to.equal(50);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 2, () => 0.999)).to.equal(800);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 3, () => 0)).to.equal(3200);
    const high = retryDelayMs(DEFAULT_RETRY_POLICY, 3, () => 0.999);
    expect(high)
      .to.be.greaterThan(3200)
      .and.lessThan(3200 + DEFAULT_RETRY_POLICY.jitterMs);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(DEFAULT_RETRY_POLICY, 6);
      expect(d)
        .to.be.at.least(60_000)
        .and.below(60_000 + DEFAULT_RETRY_POLICY.jitterMs);
    }
  });

  it('survives at least 10 minutes once established, and gives up on a never-reached server within 5 s', () => {
    expect(worstCaseRetryMs(DEFAULT_RETRY_POLICY)).to.be.at.least(10 * 60_000);
    let minTotal = 0;
    for (let i = 0; i < DEFAULT_RETRY_POLICY.maxRetries; i++) minTotal += retryDelayMs(DEFAULT_RETRY_POLICY, i, () => 0);
    expect(minTotal).to.be.at.least(10 * 60_000);
    expect(worstCaseRetryMs(FIRST_CONNECT_RETRY_POLICY)).to.be.at.most(FIRST_CONNECT_RETRY_POLICY.maxElapsedMs).and.below(5000);
  });

  it('retries a retryable error until it succeeds, reporting each retry', async () => {
    let tries = 0;
    const events: number[] = [];
    const result = await withRetries(
      fast,
      async () => {
        if (++tries < 4) throw grpcError(grpc.status.UNAVAILABLE, 'Connection dropped');
        return 'ok';
      },
      (e) => events.push(e.attempt),
    );
    expect(result).to.equal('ok');
    expect(tries).to.equal(4);
    expect(events).to.deep.equal([1, 2, 3]);
  });

  it('stops after maxRetries and rethrows the last error unchanged', async () => {
    let tries = 0;
    const last = grpcError(grpc.status.UNAVAILABLE, 'still down');
    const err = await withRetries(fast, async () => {
      tries++;
      throw last;
    }).catch((e: unknown) => e);
    expect(err).to.equal(last);
    expect(tries).to.equal(fast.maxRetries + 1);
  });

  it('stops when the next wait would pass the time budget', async () => {
    const policy: RetryPolicy = { ...fast, initialBackoffMs: 40, maxBackoffMs: 40, maxRetries: 100, maxElapsedMs: 100 };
    let tries = 0;
    const t0 = Date.now();
    await withRetries(policy, async () => {
      tries++;
      throw grpcError(grpc.status.UNAVAILABLE, 'down');
    }).catch(() => undefined);
    expect(Date.now() - t0).to.be.below(200);
    expect(tries).to.be.within(2, 3);
  });

  it('never retries what shouldRetry refuses, and a custom shouldRetry decides', async () => {
    let tries = 0;
    await withRetries(fast, async () => {
      tries++;
      throw recorded('table not found');
    }).catch(() => undefined);
    expect(tries).to.equal(1);
    tries = 0;
    const custom: RetryPolicy = { ...fast, shouldRetry: (e) => (e as grpc.ServiceError).code === grpc.status.RESOURCE_EXHAUSTED };
    await withRetries(custom, async () => {
      tries++;
      throw grpcError(grpc.status.RESOURCE_EXHAUSTED, 'busy');
    }).catch(() => undefined);
    expect(tries).to.equal(fast.maxRetries + 1);
  });

  it('an abort ends the retries at once', async () => {
    const ac = new AbortController();
    const policy: RetryPolicy = { ...fast, initialBackoffMs: 10_000, maxBackoffMs: 10_000 };
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 50);
    await withRetries(
      policy,
      async () => {
        throw grpcError(grpc.status.UNAVAILABLE, 'down');
      },
      undefined,
      ac.signal,
    ).catch(() => undefined);
    expect(Date.now() - t0).to.be.below(1000);
  });
});

describe('connect error classification', () => {
  it('never retries an error the Spark server produced, whatever its words (recorded from Spark 4.2)', () => {
    for (const name of [
      'table not found',
      'division by zero',
      'user error naming a connection and a stream',
      'streaming source in a batch query',
    ]) {
      const e = recorded(name);
      expect(e.code, name).to.equal(grpc.status.INTERNAL);
      expect(sparkErrorClass(e), name).to.be.a('string');
      expect(isRetryableError(e), name).to.equal(false);
    }
    expect(sparkErrorClass(recorded('streaming source in a batch query'))).to.equal('_LEGACY_ERROR_TEMP_3102');
  });

  it('knows OPERATION_NOT_FOUND (the reattach handling re-sends on it) and does not retry it blindly', () => {
    const e = recorded('reattach to an unknown operation');
    expect(sparkErrorClass(e)).to.equal('INVALID_HANDLE.OPERATION_NOT_FOUND');
    expect(isRetryableError(e)).to.equal(false);
  });

  it('retries network failures: a closed port, a dropped connection, RST_STREAM, INVALID_CURSOR.DISCONNECTED', () => {
    expect(isRetryableError(recorded('closed port'))).to.equal(true);
    expect(isRetryableError(grpcError(grpc.status.UNAVAILABLE, 'Connection dropped'))).to.equal(true);
    expect(
      isRetryableError(grpcError(grpc.status.INTERNAL, 'Received RST_STREAM with code 2 triggered by internal client error')),
    ).to.equal(true);
    expect(
      isRetryableError(grpcError(grpc.status.INTERNAL, '[INVALID_CURSOR.DISCONNECTED] The cursor is invalid. SQLSTATE: HY109')),
    ).to.equal(true);
  });

  it('does not retry other codes or plain errors', () => {
    expect(isRetryableError(grpcError(grpc.status.UNAUTHENTICATED, 'bad token'))).to.equal(false);
    expect(isRetryableError(grpcError(grpc.status.INVALID_ARGUMENT, 'stream connection'))).to.equal(false);
    expect(isRetryableError(new Error('connection'))).to.equal(false);
  });
});

describe('connect error details', () => {
  const response: FetchErrorDetailsResponse__Output = {
    root_error_idx: 0,
    server_side_session_id: 's',
    session_id: 'c',
    errors: [
      {
        error_type_hierarchy: ['org.apache.spark.SparkDateTimeException', 'java.time.DateTimeException'],
        message: '[DATETIME_FIELD_OUT_OF_BOUNDS] Invalid value for MonthOfYear',
        stack_trace: [{ declaring_class: 'org.apache.spark.sql.Foo', method_name: 'bar', file_name: 'Foo.scala', line_number: 12 }],
        cause_idx: 1,
        spark_throwable: {
          error_class: 'DATETIME_FIELD_OUT_OF_BOUNDS',
          sql_state: '22023',
          message_parameters: { rangeMessage: 'MonthOfYear' },
          query_contexts: [
            {
              context_type: 'SQL',
              object_type: '',
              object_name: '',
              start_index: 7,
              stop_index: 28,
              fragment: 'make_date(2020, 13, 1)',
              call_site: '',
              summary: 's',
            },
          ],
        },
      },
      {
        error_type_hierarchy: ['java.time.DateTimeException'],
        message: 'Invalid value for MonthOfYear (valid values 1 - 12): 13',
        stack_trace: [],
        cause_idx: 2,
      },
      { error_type_hierarchy: ['java.lang.RuntimeException'], message: 'root cause', stack_trace: [], cause_idx: 1 },
    ],
  } as unknown as FetchErrorDetailsResponse__Output;

  it('keeps the query contexts, the whole cause chain (cycles cut) and the server stack', () => {
    const d = errorDetailsFromResponse(response, 'id-1')!;
    expect(d.errorClass).to.equal('DATETIME_FIELD_OUT_OF_BOUNDS');
    expect(d.queryContexts).to.have.length(1);
    expect(d.queryContexts![0]).to.include({ contextType: 'SQL', startIndex: 7, stopIndex: 28, fragment: 'make_date(2020, 13, 1)' });
    expect(d.causes!.map((c) => c.message)).to.deep.equal(['Invalid value for MonthOfYear (valid values 1 - 12): 13', 'root cause']);
    expect(d.serverStackTrace).to.equal('    at org.apache.spark.sql.Foo.bar(Foo.scala:12)');
  });

  it('an error keeps the JS stack and links the causes as Error.cause', () => {
    const d = errorDetailsFromResponse(response, 'id-1')!;
    const e = new SparkConnectError(d.serverMessage, d);
    expect(e.stack).to.include('connect-retry.test.ts');
    expect(e.serverStackTrace).to.include('Foo.scala:12');
    const cause = e.cause as Error;
    expect(cause.message).to.include('MonthOfYear');
    expect((cause.cause as Error).message).to.equal('root cause');
  });
});

describe('connect retry sleep', () => {
  it('returns at once for a signal that is already aborted, and when the signal aborts mid-wait', async () => {
    const aborted = new AbortController();
    aborted.abort();
    let t0 = Date.now();
    await sleep(10_000, aborted.signal);
    expect(Date.now() - t0).to.be.below(1000);
    const later = new AbortController();
    t0 = Date.now();
    setTimeout(() => later.abort(), 20);
    await sleep(10_000, later.signal);
    expect(Date.now() - t0).to.be.below(1000);
  });
});
