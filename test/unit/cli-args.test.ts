import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseJobArgs, parseRunnerOptions, resolveJob, splitSubmitArgs } from '../../lib/cli/submit';
import { checkJob, InvalidJobError, looksLikePath } from '../../lib/cli/load-job';
import { defineJob, UsageError } from '../../lib/cli/job';
import { describeFailure, exitCodeFor } from '../../lib/cli/output';
import { probeEndpoint } from '../../lib/cli/acquire';
import { ParseException } from '../../lib/connect/errors';
import { registeredJobs } from '../../lib/cli/registry';

const io = { out: () => undefined, err: () => undefined };
const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'jobs');

describe('cli: submit arguments, job loading and errors', () => {
  it('splits runner options, the job and the job arguments', () => {
    expect(splitSubmitArgs(['--conf', 'a=b', '--verbose', 'preprocess', '--input', 'x'])).to.deep.equal({
      runner: ['--conf', 'a=b', '--verbose'],
      job: 'preprocess',
      jobArgs: ['--input', 'x'],
    });
    expect(splitSubmitArgs(['--master=local[2]', 'jobs/x.ts', '--', '--flag'])).to.deep.equal({
      runner: ['--master=local[2]'],
      job: 'jobs/x.ts',
      jobArgs: ['--flag'],
    });
    expect(splitSubmitArgs(['--remote', 'sc://h', '--', 'job', '--a'])).to.deep.equal({
      runner: ['--remote', 'sc://h'],
      job: 'job',
      jobArgs: ['--a'],
    });
    expect(splitSubmitArgs(['--verbose'])).to.deep.equal({ runner: ['--verbose'], jobArgs: [] });
  });

  it('parses the runner options strictly', async () => {
    const o = await parseRunnerOptions(['--conf', 'a=b', '--conf', 'c=d', '--driver-memory', '2g', '--no-progress'], io);
    expect(o).to.include({ driverMemory: '2g', progress: false, verbose: false });
    expect(o).to.have.property('conf').that.deep.equals(['a=b', 'c=d']);
    let err: unknown;
    await parseRunnerOptions(['--nope'], io).catch((e) => (err = e));
    expect(err).to.be.instanceOf(UsageError);
    expect((err as Error).message).to.include('nope');
  });

  it("parses a job's arguments with its own options, and hints where runner options go", async () => {
    const job = defineJob<{ n: number }>({
      name: 'j',
      description: 'd',
      options: { n: { type: 'number', default: 1 } },
      run: async () => undefined,
    });
    const args = await parseJobArgs(job, ['--n', '5'], io);
    expect(args).to.include({ n: 5 });
    let stray: unknown;
    await parseJobArgs(job, ['--n', '5', 'pos'], io).catch((e) => (stray = e));
    expect(stray, 'a word without a flag is refused, not ignored').to.be.instanceOf(UsageError);
    expect((stray as Error).message).to.include('unexpected argument "pos"');
    const withArgs = defineJob<{ n: number }>({ ...job, positionalArgs: 'files...' });
    expect(await parseJobArgs(withArgs, ['--n', '5', 'a', 'b'], io)).to.deep.include({ _: ['a', 'b'] });
    let err: unknown;
    await parseJobArgs(job, ['--verbose'], io).catch((e) => (err = e));
    expect(err).to.be.instanceOf(UsageError);
    expect((err as Error).message).to.include('put it before the job name');
  });

  it('an unknown job name is a usage error listing the known jobs', () => {
    expect(() => resolveJob('surely-not-a-job')).to.throw(UsageError, /unknown job "surely-not-a-job"; known jobs: .*preprocess/);
  });

  it('the registry discovers jobs/*.ts (not index.ts)', () => {
    const names = registeredJobs().map((j) => j.name);
    expect(names).to.include('preprocess');
    expect(names).to.not.include('index');
  });

  it('a job file that exports no run() is refused with a clear error (exit 2)', () => {
    let err: unknown;
    try {
      resolveJob(path.join(FIXTURES, 'fixture-no-run.ts'));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InvalidJobError);
    expect((err as Error).message).to.include('exports no run(spark, args, ctx) function');
    expect(exitCodeFor(err)).to.equal(2);
    expect(() => checkJob({ run: () => undefined, needs: ['hdfs'] }, 'x.ts')).to.throw(InvalidJobError, 'unknown need "hdfs"');
    expect(() => resolveJob('./no/such/job.ts')).to.throw(UsageError, 'job file not found');
  });

  it('tells names from paths', () => {
    expect(looksLikePath('preprocess')).to.equal(false);
    expect(looksLikePath('jobs/preprocess.ts')).to.equal(true);
    expect(looksLikePath('my-job.ts')).to.equal(true);
  });

  it('prints Spark errors as class and message, with the JS stack only when verbose', () => {
    const err = new ParseException("\n[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, pos 0)", {
      errorClass: 'PARSE_SYNTAX_ERROR',
      sqlState: '42601',
    });
    const plain = describeFailure(err, false);
    expect(plain).to.equal("ParseException: [PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, pos 0)");
    expect(describeFailure(err, true)).to.match(/\n\s+at /);
    expect(exitCodeFor(err)).to.equal(1);
    expect(exitCodeFor(new UsageError('x'))).to.equal(2);
  });

  it('a closed port fails within 5 s naming the endpoint', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const t0 = Date.now();
    let err: unknown;
    await probeEndpoint('127.0.0.1', port, `sc://127.0.0.1:${port}`).catch((e) => (err = e));
    expect(Date.now() - t0).to.be.below(5000);
    expect((err as Error).message).to.include(`sc://127.0.0.1:${port}`);
    expect((err as Error).message).to.include('connection refused');
  });

  it('a path that is a directory is a usage error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-args-'));
    try {
      expect(() => resolveJob(`${dir}/`)).to.throw(UsageError, 'is a directory');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
