import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONF_DIR, JARS_DIR } from './paths';

/**
 * Versions: the pom's one property is the pin (`spark.version` in spark-conf/maven/spark/pom.xml,
 * `kafka.version` in spark-conf/maven/kafka/pom.xml); the jars in .cache/jars are what `make setup` installed.
 * They differ only when the pom changed and setup has not run since.
 */
export type Engine = 'spark' | 'kafka';

const JAR_PREFIX: Record<Engine, string> = { spark: 'spark-connect_2.13-', kafka: 'kafka_2.13-' };

/** The version the project pins, read from its pom. */
export function pinnedVersion(engine: Engine): string {
  const pom = fs.readFileSync(path.join(CONF_DIR, 'maven', engine, 'pom.xml'), 'utf8');
  const m = new RegExp(`<${engine}\\.version>([^<]+)</${engine}\\.version>`).exec(pom);
  if (!m) throw new Error(`spark-conf/maven/${engine}/pom.xml has no <${engine}.version> property`);
  return m[1]!.trim();
}

/** The version of the jars `make setup` installed, or undefined when there are none. */
export function installedVersion(engine: Engine, jarsDir = JARS_DIR): string | undefined {
  const prefix = JAR_PREFIX[engine];
  let names: string[];
  try {
    names = fs.readdirSync(path.join(jarsDir, engine));
  } catch {
    return undefined;
  }
  const jar = names.find((f) => f.startsWith(prefix) && f.endsWith('.jar'));
  return jar ? jar.slice(prefix.length, -'.jar'.length) : undefined;
}
