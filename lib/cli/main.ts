import yargs from 'yargs';
import { up, down, status, type ServerName } from './servers';

const SERVERS = ['spark', 'kafka'] as const;

/** Entry point of the `spark-ts` command. */
export async function main(argv: string[]): Promise<void> {
  const which = (s?: string): ServerName[] => (s ? [s as ServerName] : [...SERVERS]);
  await yargs(argv)
    .scriptName('spark-ts')
    .command('up [server]', 'start the embedded Spark Connect server and Kafka broker (reuses running ones)', (y) =>
      y.positional('server', { choices: SERVERS }), async (a) => up(which(a.server)))
    .command('down [server]', 'stop the embedded servers', (y) => y.positional('server', { choices: SERVERS }), async (a) => down(which(a.server)))
    .command('status', 'show what runs, where, with which pid', () => undefined, async () => status())
    .demandCommand(1)
    .strict()
    .fail((msg, err) => {
      if (err) {
        console.error(`spark-ts: ${err.message}`);
        process.exit(1);
      }
      console.error(`spark-ts: ${msg}`);
      process.exit(2);
    })
    .parseAsync();
}
