import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { JARS_DIR } from '../runtime/paths';

export interface MachineInfo {
  cores: number;
  memory_bytes: number;
  cpu_model: string;
  os: string;
  java: string;
  node: string;
  spark: string;
  kafka: string;
}

function jarVersion(dir: string, prefix: string): string {
  try {
    const jar = fs.readdirSync(path.join(JARS_DIR, dir)).find((f) => f.startsWith(prefix) && f.endsWith('.jar'));
    return jar ? jar.slice(prefix.length, -'.jar'.length) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The facts a benchmark figure is meaningless without. */
export function machineInfo(): MachineInfo {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return {
    cores: os.cpus().length,
    memory_bytes: os.totalmem(),
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    os: `${os.type()} ${os.release()}`,
    java: (java.stderr ?? '').split('\n')[0]?.replace(/^\S+ version /, '').replace(/"/g, '') || 'unknown',
    node: process.versions.node,
    spark: jarVersion('spark', 'spark-connect_2.13-'),
    kafka: jarVersion('kafka', 'kafka_2.13-'),
  };
}
