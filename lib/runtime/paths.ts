import * as path from 'node:path';

/** Project layout, resolved from this file so that every entry point agrees. */
export const ROOT = path.resolve(__dirname, '..', '..');
export const RUN_DIR = process.env.SPARK_TS_RUN_DIR ?? path.join(ROOT, '.run');
export const LOG_DIR = path.join(RUN_DIR, 'logs');
export const JARS_DIR = process.env.SPARK_TS_JARS_DIR ?? path.join(ROOT, '.cache', 'jars');
export const CONF_DIR = path.join(ROOT, 'spark-conf');
export const SPARK_STATE_FILE = path.join(RUN_DIR, 'spark.json');
export const KAFKA_STATE_FILE = path.join(RUN_DIR, 'kafka.json');
export const CACHE_DIR = path.join(ROOT, '.cache');
export const POSTGRES_STATE_FILE = path.join(RUN_DIR, 'postgres.json');
export const CONNECT_STATE_FILE = path.join(RUN_DIR, 'connect.json');
export const CLUSTER_STATE_FILE = path.join(RUN_DIR, 'cluster.json');
