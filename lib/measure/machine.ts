import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import { installedVersion } from '../runtime/versions';

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

/** The facts a benchmark figure is meaningless without. */
export function machineInfo(): MachineInfo {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return {
    cores: os.cpus().length,
    memory_bytes: os.totalmem(),
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    os: `${os.type()} ${os.release()}`,
    java:
      (java.stderr ?? '')
        .split('\n')[0]
        ?.replace(/^\S+ version /, '')
        .replace(/"/g, '') || 'unknown',
    node: process.versions.node,
    spark: installedVersion('spark') ?? 'unknown',
    kafka: installedVersion('kafka') ?? 'unknown',
  };
}
