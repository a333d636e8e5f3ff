import { expect } from 'chai';
import { SparkSession, functions as F } from '../../lib/connect';
import { RecordingClient } from '../../lib/connect/testing/recording-client';

describe('connect callFunction and higher-order function plans', () => {
  it('callFunction sends a CallFunction expression with the arguments as columns', async () => {
    const client = new RecordingClient();
    const spark = await SparkSession.builder().withClient(client).create();
    const expr = spark.range(1).select(F.callFunction('system.builtin.abs', 'id')).relation.project!.expressions![0]!;
    expect(expr.call_function!.function_name).to.equal('system.builtin.abs');
    expect(expr.call_function!.arguments![0]!.unresolved_attribute!.unparsed_identifier).to.equal('id');
    expect(() => F.callFunction(' ')).to.throw(TypeError);
  });

  it('a JS lambda becomes a LambdaFunction over fresh named variables', () => {
    const e = F.transform('xs', (x, i) => x.plus(i)).expr;
    const f = e.unresolved_function!;
    expect(f.function_name).to.equal('transform');
    const lambda = f.arguments![1]!.lambda_function!;
    const names = lambda.arguments!.map((a) => a.name_parts![0]!);
    expect(names).to.have.length(2);
    const body = lambda.function!.unresolved_function!;
    expect(body.function_name).to.equal('+');
    expect(body.arguments!.map((a) => a.unresolved_named_lambda_variable!.name_parts![0])).to.deep.equal(names);
    // One-argument lambdas give one variable; names never repeat across lambdas.
    const other = F.transform('xs', (x) => x).expr.unresolved_function!.arguments![1]!.lambda_function!.arguments!;
    expect(other).to.have.length(1);
    expect(names).not.to.include(other[0]!.name_parts![0]);
  });

  it('aggregate takes a merge and an optional finish; arities are checked', () => {
    const args = F.aggregate(
      'xs',
      0,
      (acc, x) => acc.plus(x),
      (acc) => acc,
    ).expr.unresolved_function!.arguments!;
    expect(args).to.have.length(4);
    expect(args[2]!.lambda_function!.arguments).to.have.length(2);
    expect(args[3]!.lambda_function!.arguments).to.have.length(1);
    expect(() => F.transform('xs', ((a: unknown, _b: unknown, _c: unknown) => a) as never)).to.throw(TypeError, /1 or 2 arguments/);
  });
});

describe('connect observe, repartitionByRange, toJSON plans', () => {
  it('observe registers the Observation and plans CollectMetrics; metrics are delivered by name', async () => {
    const { Observation } = await import('../../lib/connect');
    const spark = await SparkSession.builder().withClient(new RecordingClient()).create();
    const obs = new Observation('q');
    const df = spark.range(10).observe(obs, F.count(F.lit(1)).alias('n'));
    expect(df.relation.collect_metrics!.name).to.equal('q');
    expect(df.relation.collect_metrics!.metrics).to.have.length(1);
    expect(spark.observations.get('q')).to.equal(obs);
    expect(() => spark.range(1).observe(new Observation('q'), F.count(F.lit(1)))).to.throw(/already named/);
    obs.deliver(['n'], [{ long: '10', literal_type: 'long' } as never]);
    expect(await obs.get()).to.deep.equal({ n: 10n });
  });

  it('repartitionByRange sorts ascending unless told; toJSON is to_json(struct(*))', async () => {
    const spark = await SparkSession.builder().withClient(new RecordingClient()).create();
    const r = spark.range(10).repartitionByRange(3, 'id', F.col('id').desc()).relation.repartition_by_expression!;
    expect(r.num_partitions).to.equal(3);
    expect(r.partition_exprs!.map((e) => e.sort_order!.direction)).to.deep.equal(['SORT_DIRECTION_ASCENDING', 'SORT_DIRECTION_DESCENDING']);
    expect(() => spark.range(1).repartitionByRange(2)).to.throw(TypeError);
    const j = spark.range(1).toJSON().relation.project!.expressions![0]!;
    expect(j.alias!.name).to.deep.equal(['value']);
    expect(j.alias!.expr!.unresolved_function!.function_name).to.equal('to_json');
  });
});
