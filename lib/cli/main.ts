import yargs from 'yargs';
import { up, down, status, type ServerName } from './servers';
import { submit, SUBMIT_OPTIONS } from './submit';
import { sql } from './sql';
import { listJobs } from './registry';
import { runCommand } from '../pipeline/cli';
import { benchCompare } from '../bench/compare';
import { dashboard } from './dashboard';
import { DASHBOARD_CLI_OPTIONS, type DashboardArgs } from '../dashboard/options';
import { EXIT, describeFailure, exitCodeFor, processIo, type Io } from './output';

const SERVERS = ['spark', 'kafka', 'postgres', 'connect'] as const;
/** What `spark-ts up` starts without a name: the servers every job needs (postgres and connect are for the CDC source). */
const DEFAULT_UP: ServerName[] = ['spark', 'kafka'];

/** `spark-ts jobs`: the registered jobs, one line each. */
export function printJobs(io: Io = processIo): number {
  const jobs = listJobs();
  if (!jobs.length) {
    io.err('spark-ts: no jobs are registered (jobs/*.ts)');
    return EXIT.ok;
  }
  const width = Math.max(...jobs.map((j) => j.name.length));
  for (const j of jobs) io.out(`${j.name.padEnd(width)}  ${j.description}`);
  return EXIT.ok;
}

/** Entry point of the `spark-ts` command; resolves the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  // submit parses its own arguments: the runner's options, then the job's own (unknown to this parser).
  if (argv[0] === 'submit') return submit(argv.slice(1), io);
  const which = (s?: string, all: readonly ServerName[] = SERVERS): ServerName[] => (s ? [s as ServerName] : [...all]);
  let code: number = EXIT.ok;
  try {
    await yargs(argv)
      .scriptName('spark-ts')
      .usage('$0 <command> [options]')
      .command('submit [options] <job>', 'run a job, spark-submit style (`spark-ts submit --help`)', (y) => y.options(SUBMIT_OPTIONS))
      .command(
        'sql <query>',
        'run one SQL query and print the result (a table, --json Lines or --csv)',
        (y) =>
          y
            .positional('query', { type: 'string', demandOption: true, describe: 'the SQL text (quote it)' })
            .option('json', {
              type: 'boolean',
              describe: 'JSON Lines: one object per row (exact numbers, ISO-8601 UTC timestamps, base64 binary)',
            })
            .option('csv', { type: 'boolean', describe: 'CSV with a header row' })
            .conflicts('json', 'csv')
            .option('max-rows', { type: 'number', describe: 'print at most this many rows' })
            .option('remote', {
              type: 'string',
              describe: 'use this Spark Connect server: sc://host:15002/;token=... (default: SPARK_REMOTE, else the embedded server)',
            })
            .option('conf', { type: 'string', array: true, describe: 'a session setting key=value (repeatable)' })
            .option('properties-file', { type: 'string', describe: 'Spark properties layered over spark-conf/spark-defaults.conf' })
            .option('progress', {
              type: 'boolean',
              default: true,
              describe: 'show Spark execution progress on stderr; --no-progress hides it',
            })
            .option('verbose', { type: 'boolean', default: false, describe: 'JS stacks on failure' }),
        async (a) => {
          code = await sql(
            {
              query: a.query,
              format: a.json ? 'json' : a.csv ? 'csv' : 'table',
              maxRows: a['max-rows'],
              remote: a.remote,
              conf: (a.conf ?? []).map(String),
              propertiesFile: a['properties-file'],
              verbose: a.verbose,
              progress: a.progress,
            },
            io,
          );
        },
      )
      .command(
        'run',
        'the whole pipeline end to end (make run): preprocess, streaming, CDC, cache-bench; summary in reports/run/',
        (y) =>
          y
            .option('input', {
              type: 'string',
              describe: 'the marketing_campaign.csv (default data/raw/marketing_campaign.csv, else generated data)',
            })
            .option('quick', { type: 'boolean', default: process.env.QUICK === '1', describe: 'small sizes (tests)' })
            .option('synthetic', { type: 'boolean', default: false, describe: 'use generated data even when the real file is there' })
            .option('work-dir', {
              type: 'string',
              describe: 'write every output under this directory (default: data/processed, models, reports/run)',
            })
            .option('only', {
              type: 'string',
              describe: 'run only these steps, comma-separated (e.g. stream-produce,stream,stream-watch)',
            }),
        async (a) => {
          const only = a.only
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          code = await runCommand({ input: a.input, quick: a.quick, synthetic: a.synthetic, workDir: a['work-dir'], only }, io.out);
        },
      )
      .command(
        'bench-compare <a> <b>',
        'ratio of each figure between two `make bench` runs (directories or results.json)',
        (y) => y.positional('a', { type: 'string', demandOption: true }).positional('b', { type: 'string', demandOption: true }),
        (a) => {
          code = benchCompare(a.a, a.b, io.out);
        },
      )
      .command(
        'dashboard',
        'live dashboard in the browser (stream, alerts, CDC model, reports) on http://127.0.0.1:4050/',
        (y) => y.options(DASHBOARD_CLI_OPTIONS),
        async (a) => {
          code = await dashboard(a as unknown as DashboardArgs, io);
        },
      )
      .command(
        'jobs',
        'list the registered jobs',
        () => undefined,
        () => {
          code = printJobs(io);
        },
      )
      .command(
        'up [server]',
        'start the embedded Spark Connect server and Kafka broker, or the named server (postgres, connect: the CDC source); reuses running ones',
        (y) =>
          y
            .positional('server', { choices: SERVERS })
            .option('workers', {
              type: 'number',
              describe: 'Spark as a standalone cluster on loopback: a master and this many workers, the Connect server as driver',
            })
            .option('worker-cores', { type: 'number', describe: 'cores each worker offers (default 1)' })
            .option('worker-memory', { type: 'string', describe: 'memory each worker offers to its executor (default 1g)' })
            .option('brokers', {
              type: 'number',
              describe: 'Kafka as this many KRaft brokers (replication factor 3 and min.insync.replicas=2 when 3 or more)',
            }),
        async (a) =>
          up(which(a.server, DEFAULT_UP), console.log, {
            workers: a.workers,
            workerCores: a['worker-cores'],
            workerMemory: a['worker-memory'],
            brokers: a.brokers,
          }),
      )
      .command(
        'down [server]',
        'stop the embedded servers (all, or the named one)',
        (y) => y.positional('server', { choices: SERVERS }),
        async (a) => down(which(a.server)),
      )
      .command(
        'status',
        'show what runs, where, with which pid (never the token)',
        () => undefined,
        async () => status(),
      )
      .demandCommand(1, 'spark-ts needs a command: submit, sql, run, dashboard, jobs, up, down or status')
      .strict()
      .version(false)
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new UsageErrorFromYargs(msg);
      })
      .parseAsync();
  } catch (err) {
    if (err instanceof UsageErrorFromYargs) {
      io.err(`spark-ts: ${err.message}\n(see \`spark-ts --help\`)`);
      return EXIT.usage;
    }
    io.err(`spark-ts: ${describeFailure(err, argv.includes('--verbose'))}`);
    return exitCodeFor(err);
  }
  return code;
}

class UsageErrorFromYargs extends Error {}
