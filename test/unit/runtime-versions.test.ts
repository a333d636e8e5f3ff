import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installedVersion, pinnedVersion } from '../../lib/runtime/versions';

describe('runtime versions: the pom pins, the jar folder tells what is installed', () => {
  it('reads the one version property of each pom', () => {
    const sparkPom = fs.readFileSync(path.join(__dirname, '..', '..', 'spark-conf', 'maven', 'spark', 'pom.xml'), 'utf8');
    expect(pinnedVersion('spark')).to.match(/^\d+\.\d+\.\d+$/);
    expect(sparkPom).to.contain(`<spark.version>${pinnedVersion('spark')}</spark.version>`);
    expect(pinnedVersion('kafka')).to.match(/^\d+\.\d+\.\d+$/);
  });

  it('names the version of the installed jars, or undefined when there are none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-ts-jars-'));
    try {
      expect(installedVersion('spark', dir)).to.equal(undefined);
      fs.mkdirSync(path.join(dir, 'spark'));
      fs.writeFileSync(path.join(dir, 'spark', 'spark-core_2.13-4.2.0.jar'), '');
      expect(installedVersion('spark', dir)).to.equal(undefined);
      fs.writeFileSync(path.join(dir, 'spark', 'spark-connect_2.13-4.2.0.jar'), '');
      expect(installedVersion('spark', dir)).to.equal('4.2.0');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
