import { expect } from 'chai';
import { SparkSession, functions as F } from '../../lib/connect';
import { RecordingClient } from '../../lib/connect/testing/recording-client';

describe('connect callFunction and higher-order function plans @unit', () => {
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
    const args = F.aggregate('xs', 0, (acc, x) => acc.plus(x), (acc) => acc).expr.unresolved_function!.arguments!;
    expect(args).to.have.length(4);
    expect(args[2]!.lambda_function!.arguments).to.have.length(2);
    expect(args[3]!.lambda_function!.arguments).to.have.length(1);
    expect(() => F.transform('xs', ((a: unknown, b: unknown, c: unknown) => a) as never)).to.throw(TypeError, /1 or 2 arguments/);
  });
});
