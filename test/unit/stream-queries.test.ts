import { expect } from 'chai';
import { SparkSession } from '../../lib/connect';
import { RecordingClient } from '../../lib/connect/testing/recording-client';
import { SMALL_STATE_CONF, outputTopics, startQueries, type StartedQueries, type StreamPipelineOptions } from '../../lib/stream/pipeline';

describe('stream queries: how each is started (through the recording client)', () => {
  it('the live query and the copies start together with their small-state settings, restored after; the copies with their own trigger', async () => {
    // One log of settings and starts, in the order the session sent them.
    const events: string[] = [];
    class OrderedClient extends RecordingClient {
      override config(...args: Parameters<RecordingClient['config']>): ReturnType<RecordingClient['config']> {
        const op = args[0];
        events.push(op?.set ? 'set' : op?.unset ? 'unset' : 'get');
        return super.config(...args);
      }
    }
    const client = new OrderedClient();
    let started = 0;
    client.respond = (plan) =>
      plan.command?.write_stream_operation_start && events.push(`start ${plan.command.write_stream_operation_start.query_name}`)
        ? [{ write_stream_operation_start_result: { query_id: { id: `q${++started}`, run_id: 'r' }, name: 'n' } }]
        : [];
    // The session had shuffle partitions set and no state store provider.
    client.respondConfig = (op) =>
      op.get_option
        ? { pairs: (op.get_option.keys ?? []).map((key) => (key === 'spark.sql.shuffle.partitions' ? { key, value: '2' } : { key })) }
        : { pairs: [] };
    const spark = await SparkSession.builder().withClient(client).create();
    const o: StreamPipelineOptions = {
      bootstrapServers: 'b:9092',
      topic: 't',
      startingOffsets: 'earliest',
      trigger: { processingTime: '1 second' },
      output: '/out',
      checkpoint: '/cp',
      watermarkMs: 10_000,
    };
    const into: StartedQueries = { queries: new Map(), names: new Map() };
    const offsets = JSON.stringify({ x: { 0: 0 } });
    await startQueries(
      spark,
      o,
      {
        topics: outputTopics(),
        copyStartingOffsets: { aggregates_10s: offsets, aggregates_1m: offsets, alerts: offsets },
        live: true,
        liveTrigger: { processingTime: '500 milliseconds' },
        copyTrigger: { processingTime: '5 seconds' },
      },
      ['live', 'aggregates_10s'],
      into,
    );
    expect([...into.queries.keys()]).to.deep.equal(['live', 'aggregates_10s']);

    // Settings: read, set once for both queries (the same settings: they start together), then restored
    // (set back, or unset when they were unset).
    const keys = Object.keys(SMALL_STATE_CONF);
    const restored = [{ key: 'spark.sql.shuffle.partitions', value: '2' }];
    const sets = client.configs.filter((c) => c.set).flatMap((c) => c.set?.pairs ?? []);
    expect(sets).to.deep.equal([...keys.map((key) => ({ key, value: SMALL_STATE_CONF[key] })), ...restored]);
    const unsetBefore = ['spark.sql.streaming.noDataMicroBatches.enabled', 'spark.sql.streaming.stateStore.providerClass'];
    expect(client.configs.filter((c) => c.unset).flatMap((c) => c.unset?.keys ?? [])).to.deep.equal(unsetBefore);

    const starts = client.plans.map((p) => p.command?.write_stream_operation_start).filter((s) => s !== undefined);
    expect(starts.map((s) => [s?.query_name, s?.output_mode, s?.processing_time_interval])).to.deep.equal([
      ['stream_live', 'update', '500 milliseconds'],
      ['stream_aggregates_10s', 'append', '5 seconds'],
    ]);
    // Both queries were started between the settings (one request) and their restoring (shuffle partitions
    // set back, the others unset).
    const starting = events.filter((e) => e !== 'get');
    expect(starting.slice(0, 1)).to.deep.equal(['set']);
    expect([...starting.slice(1, 3)].sort()).to.deep.equal(['start stream_aggregates_10s', 'start stream_live']);
    expect(starting.slice(3)).to.deep.equal(['set', ...unsetBefore.map(() => 'unset')]);
  });
});
