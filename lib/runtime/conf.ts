import * as fs from 'node:fs';

/** Reads a Spark properties file (`key value` or `key=value` per line, `#` comments), as spark-submit does. */
export function readPropertiesFile(file: string): Record<string, string> {
  if (!fs.existsSync(file)) throw new Error(`properties file not found: ${file}`);
  const out: Record<string, string> = {};
  for (const raw of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = line.match(/^([^\s=:]+)\s*[=:\s]\s*(.*)$/);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

import { isStaticSetting } from '../connect/static-settings';

/** Settings that only take effect when the JVM starts (the knowledge lives with the client). */
export { isStaticSetting };

/** Splits `--conf` style settings into those for JVM start and those for the session. */
export function splitSettings(conf: Record<string, string>): { static: Record<string, string>; session: Record<string, string> } {
  const st: Record<string, string> = {};
  const se: Record<string, string> = {};
  for (const [k, v] of Object.entries(conf)) (isStaticSetting(k) ? st : se)[k] = v;
  return { static: st, session: se };
}
