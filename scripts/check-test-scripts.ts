/**
 * Fails when a test script would run no test: each of `npm test`, `npm run test:unit` and
 * `npm run test:integration` is run as a mocha dry run (no test body, no hook, no server) and must list at
 * least one test, and the unit and integration scripts together must list exactly what `npm test` lists
 * (a test file outside both directories would otherwise run only in the whole suite).
 * Run by `make test` and `npm run test:check`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SCRIPTS = ['test', 'test:unit', 'test:integration'] as const;

interface DryRun {
  stats: { tests: number };
  tests: Array<{ fullTitle: string; file: string }>;
}

function dryRun(script: string, dir: string): DryRun {
  const out = path.join(dir, `${script.replace(/\W/g, '-')}.json`);
  const run = spawnSync('npm', ['run', '-s', script, '--', '--dry-run', '--reporter', 'json', '--reporter-option', `output=${out}`], {
    cwd: path.resolve(__dirname, '..'),
    encoding: 'utf8',
    // Listing needs no type check (`make test` runs tsc first); transpiling only keeps this a few seconds.
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
  });
  if (run.status !== 0 || !fs.existsSync(out)) {
    throw new Error(`npm run ${script} (dry run) failed with status ${run.status}:\n${run.stdout}${run.stderr}`);
  }
  return JSON.parse(fs.readFileSync(out, 'utf8')) as DryRun;
}

function main(): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-test-check-'));
  try {
    const runs = new Map(SCRIPTS.map((s) => [s, dryRun(s, dir)]));
    let failed = false;
    for (const [script, run] of runs) {
      const files = new Set(run.tests.map((t) => path.relative(process.cwd(), t.file)));
      console.log(`npm run ${script}: ${run.stats.tests} tests in ${files.size} files`);
      if (run.stats.tests === 0) {
        console.error(`npm run ${script} runs no test`);
        failed = true;
      }
    }
    const key = (t: { fullTitle: string; file: string }) => `${t.file}\u0000${t.fullTitle}`;
    const whole = new Set(runs.get('test')!.tests.map(key));
    const parts = [...runs.get('test:unit')!.tests, ...runs.get('test:integration')!.tests].map(key);
    const missing = [...whole].filter((k) => !parts.includes(k));
    if (missing.length || parts.length !== whole.size) {
      console.error(`test:unit + test:integration list ${parts.length} tests, npm test ${whole.size}; only in npm test: ${missing.length}`);
      failed = true;
    }
    return failed ? 1 : 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
