import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeMismatches, parseConfArg, resolveSettings, staticMismatches } from '../../lib/cli/settings';
import { UsageError } from '../../lib/cli/job';
import { isStaticSetting } from '../../lib/connect/static-settings';
import { readPropertiesFile } from '../../lib/runtime/conf';
import { CONF_DIR } from '../../lib/runtime/paths';

describe('cli: settings (defaults file, then --properties-file, then --conf)', () => {
  let dir: string;
  let defaults: string;
  let props: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-settings-'));
    defaults = path.join(dir, 'spark-defaults.conf');
    props = path.join(dir, 'job.conf');
    fs.writeFileSync(
      defaults,
      '# defaults\nspark.master local[*]\nspark.driver.memory 4g\nspark.sql.shuffle.partitions 8\nspark.sql.session.timeZone UTC\n',
    );
    fs.writeFileSync(props, 'spark.sql.shuffle.partitions=16\nspark.executor.memory=2g\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses --conf key=value, keeping "=" inside the value', () => {
    expect(parseConfArg('spark.a=b')).to.deep.equal(['spark.a', 'b']);
    expect(parseConfArg('spark.x=-Dk=v')).to.deep.equal(['spark.x', '-Dk=v']);
    expect(parseConfArg('spark.empty=')).to.deep.equal(['spark.empty', '']);
  });

  it('a --conf without "=" (or with an empty key) is a usage error naming the argument', () => {
    expect(() => parseConfArg('spark.sql.shuffle.partitions')).to.throw(UsageError, '"spark.sql.shuffle.partitions"');
    expect(() => parseConfArg('=5')).to.throw(UsageError, 'empty key');
  });

  it('layers the files and --conf, and the dedicated flags win over --conf', () => {
    const s = resolveSettings(
      {
        propertiesFile: props,
        conf: ['spark.sql.shuffle.partitions=3', 'spark.master=local[1]'],
        master: 'spark://h:7077',
        driverMemory: '1g',
        name: 'n',
      },
      defaults,
    );
    expect(s.session).to.deep.equal({ 'spark.sql.shuffle.partitions': '3', 'spark.sql.session.timeZone': 'UTC' });
    expect(s.static).to.deep.equal({
      'spark.master': 'spark://h:7077',
      'spark.driver.memory': '1g',
      'spark.executor.memory': '2g',
      'spark.app.name': 'n',
    });
    // What the user asked for on this command line (and in --properties-file), not the defaults file.
    expect(s.explicitStatic).to.deep.equal({
      'spark.executor.memory': '2g',
      'spark.master': 'spark://h:7077',
      'spark.driver.memory': '1g',
      'spark.app.name': 'n',
    });
  });

  it('with no options, everything comes from the defaults file and nothing is explicit', () => {
    const s = resolveSettings({}, defaults);
    expect(s.static).to.deep.equal({ 'spark.master': 'local[*]', 'spark.driver.memory': '4g' });
    expect(s.explicitStatic).to.deep.equal({});
  });

  it('a missing properties file is a usage error that names it', () => {
    expect(() => resolveSettings({ propertiesFile: path.join(dir, 'nope.conf') }, defaults)).to.throw(UsageError, 'nope.conf');
  });

  it('finds the static settings a running server does not have, and says so clearly', () => {
    const m = staticMismatches(
      { 'spark.master': 'local[*]', 'spark.driver.memory': '8g', 'spark.executor.cores': '2', 'spark.app.name': 'x' },
      { 'spark.master': 'local[*]', 'spark.driver.memory': '4g' },
    );
    expect(m).to.deep.equal([
      { key: 'spark.driver.memory', wanted: '8g', running: '4g' },
      { key: 'spark.executor.cores', wanted: '2', running: undefined },
    ]);
    const text = describeMismatches(m, 'the server', 'Restart it.');
    expect(text).to.include('static Spark settings do not apply');
    expect(text).to.include('spark.driver.memory=8g (the server has 4g)');
    expect(text).to.include('spark.executor.cores=2 (the server has it unset)');
    expect(text).to.match(/Restart it\.$/);
  });

  it("classifies the project's own spark-defaults.conf: what Spark fixes at start is static, never set on a session", () => {
    const keys = Object.keys(readPropertiesFile(path.join(CONF_DIR, 'spark-defaults.conf')));
    const fixedAtStart = [
      'spark.master',
      'spark.driver.memory',
      'spark.memory.offHeap.size',
      'spark.scheduler.mode',
      'spark.scheduler.allocation.file',
      'spark.sql.codegen.cache.maxEntries',
      'spark.ui.retainedJobs',
      'spark.sql.ui.retainedExecutions',
    ];
    expect(keys).to.include.members(fixedAtStart);
    for (const k of fixedAtStart) expect(isStaticSetting(k), k).to.equal(true);
    // Not in the file, but read by the SparkContext at start (the runtime sets it beside local[cores + 1]).
    expect(isStaticSetting('spark.default.parallelism')).to.equal(true);
    for (const k of ['spark.sql.shuffle.partitions', 'spark.sql.session.timeZone', 'spark.sql.adaptive.enabled']) {
      expect(keys).to.include(k);
      expect(isStaticSetting(k), k).to.equal(false);
    }
  });
});
