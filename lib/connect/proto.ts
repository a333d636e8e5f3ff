import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import type { ProtoGrpcType } from './gen/base';
import type { SparkConnectServiceClient } from './gen/spark/connect/SparkConnectService';

/**
 * The Spark Connect protocol is loaded at run time from the .proto files that `make setup` extracts from
 * the pinned spark-connect jar (never committed); `lib/connect/gen` holds their generated TypeScript types.
 */
const ROOT = path.resolve(__dirname, '..', '..');

export function protoDir(): string {
  const base = process.env.SPARK_TS_PROTO_DIR ?? path.join(ROOT, '.cache', 'proto');
  if (fs.existsSync(path.join(base, 'spark', 'connect', 'base.proto'))) return base;
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((d) => fs.existsSync(path.join(base, d, '.complete'))) : [];
  if (versions.length === 0) {
    throw new Error(`Spark Connect protocol definitions not found under ${base}: run \`make setup\` first`);
  }
  return path.join(base, versions.sort().at(-1) as string);
}

let cached: ProtoGrpcType | undefined;

export function loadProtocol(): ProtoGrpcType {
  if (cached) return cached;
  const definition = protoLoader.loadSync('spark/connect/base.proto', {
    keepCase: true,
    longs: String,
    enums: String,
    bytes: Buffer,
    defaults: true,
    oneofs: true,
    includeDirs: [protoDir()],
  });
  cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  return cached;
}

export type ServiceClient = SparkConnectServiceClient;

let messageRoot: protobuf.Root | undefined;

/** Serializes one protocol message (snake_case fields, as the generated types), e.g. a LocalRelation to cache. */
export function encodeMessage(typeName: string, message: object): Uint8Array {
  if (!messageRoot) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(protoDir(), target);
    root.loadSync('spark/connect/base.proto', { keepCase: true });
    messageRoot = root;
  }
  const type = messageRoot.lookupType(typeName);
  return type.encode(type.fromObject(message)).finish();
}
