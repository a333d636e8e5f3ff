// Spark 4 VARIANT values: Spark sends them over Arrow as struct<value: binary, metadata: binary> in Spark's
// variant binary encoding (common/variant/README.md in Apache Spark). Decoded here into exact SparkValues:
// objects -> plain objects, arrays -> arrays, int64 -> bigint, decimals -> Decimal, dates/timestamps -> SparkDate/
// SparkTimestamp, binary -> Uint8Array, so `collect()` and `sql --json` show the document itself.
import { Decimal, SparkDate, SparkTimestamp, setOwn, type SparkValue } from './values';

export class VariantFormatError extends Error {
  constructor(message: string) {
    super(`malformed variant value: ${message}`);
    this.name = 'VariantFormatError';
  }
}

function readUnsigned(buf: Uint8Array, pos: number, size: number): number {
  if (pos + size > buf.length) throw new VariantFormatError(`read past the end (${pos}+${size} > ${buf.length})`);
  let v = 0;
  for (let k = size - 1; k >= 0; k--) v = v * 256 + buf[pos + k]!;
  return v;
}

function readSignedBig(buf: Uint8Array, pos: number, size: number): bigint {
  if (pos + size > buf.length) throw new VariantFormatError(`read past the end (${pos}+${size} > ${buf.length})`);
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(buf[pos + k]!);
  return BigInt.asIntN(size * 8, v);
}

/** The metadata's key dictionary. */
export function variantDictionary(metadata: Uint8Array): string[] {
  if (metadata.length === 0) throw new VariantFormatError('empty metadata');
  const header = metadata[0]!;
  const version = header & 0x0f;
  if (version !== 1) throw new VariantFormatError(`unsupported metadata version ${version}`);
  const offsetSize = ((header >> 6) & 0x3) + 1;
  const size = readUnsigned(metadata, 1, offsetSize);
  const offsetsStart = 1 + offsetSize;
  const bytesStart = offsetsStart + (size + 1) * offsetSize;
  const buf = Buffer.from(metadata.buffer, metadata.byteOffset, metadata.byteLength);
  const keys: string[] = new Array(size);
  for (let i = 0; i < size; i++) {
    const a = readUnsigned(metadata, offsetsStart + i * offsetSize, offsetSize);
    const b = readUnsigned(metadata, offsetsStart + (i + 1) * offsetSize, offsetSize);
    keys[i] = buf.toString('utf8', bytesStart + a, bytesStart + b);
  }
  return keys;
}

function decodeAt(value: Uint8Array, pos: number, keys: string[]): SparkValue {
  if (pos >= value.length) throw new VariantFormatError(`value offset ${pos} past the end (${value.length})`);
  const head = value[pos]!;
  const basic = head & 0x3;
  const header = head >> 2;
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  switch (basic) {
    case 1: // short string
      return buf.toString('utf8', pos + 1, pos + 1 + header);
    case 2: {
      // object
      const offsetSize = (header & 0x3) + 1;
      const idSize = ((header >> 2) & 0x3) + 1;
      const large = (header >> 4) & 0x1;
      const countSize = large ? 4 : 1;
      const n = readUnsigned(value, pos + 1, countSize);
      const idsStart = pos + 1 + countSize;
      const offsetsStart = idsStart + n * idSize;
      const dataStart = offsetsStart + (n + 1) * offsetSize;
      const o: { [key: string]: SparkValue } = {};
      for (let i = 0; i < n; i++) {
        const id = readUnsigned(value, idsStart + i * idSize, idSize);
        const key = keys[id];
        if (key === undefined) throw new VariantFormatError(`field id ${id} not in the dictionary (${keys.length} keys)`);
        setOwn(o, key, decodeAt(value, dataStart + readUnsigned(value, offsetsStart + i * offsetSize, offsetSize), keys));
      }
      return o;
    }
    case 3: {
      // array
      const offsetSize = (header & 0x3) + 1;
      const large = (header >> 2) & 0x1;
      const countSize = large ? 4 : 1;
      const n = readUnsigned(value, pos + 1, countSize);
      const offsetsStart = pos + 1 + countSize;
      const dataStart = offsetsStart + (n + 1) * offsetSize;
      const out: SparkValue[] = new Array(n);
      for (let i = 0; i < n; i++)
        out[i] = decodeAt(value, dataStart + readUnsigned(value, offsetsStart + i * offsetSize, offsetSize), keys);
      return out;
    }
    default: {
      // primitive
      const p = pos + 1;
      switch (header) {
        case 0:
          return null;
        case 1:
          return true;
        case 2:
          return false;
        case 3:
          return Number(readSignedBig(value, p, 1));
        case 4:
          return Number(readSignedBig(value, p, 2));
        case 5:
          return Number(readSignedBig(value, p, 4));
        case 6:
          return readSignedBig(value, p, 8);
        case 7:
          return buf.readDoubleLE(p);
        case 8:
        case 9:
        case 10: {
          const size = header === 8 ? 4 : header === 9 ? 8 : 16;
          return new Decimal(readSignedBig(value, p + 1, size), value[p]!);
        }
        case 11:
          return new SparkDate(Number(readSignedBig(value, p, 4)));
        case 12:
          return new SparkTimestamp(readSignedBig(value, p, 8), false);
        case 13:
          return new SparkTimestamp(readSignedBig(value, p, 8), true);
        case 14:
          return buf.readFloatLE(p);
        case 15: {
          const len = readUnsigned(value, p, 4);
          return value.slice(p + 4, p + 4 + len);
        }
        case 16: {
          const len = readUnsigned(value, p, 4);
          return buf.toString('utf8', p + 4, p + 4 + len);
        }
        case 17:
          return readSignedBig(value, p, 8); // TIME: microseconds since midnight
        case 18:
        case 19: {
          const nanos = readSignedBig(value, p, 8);
          const micros = nanos / 1000n - (nanos % 1000n < 0n ? 1n : 0n);
          return new SparkTimestamp(micros, header === 19);
        }
        case 20: {
          // UUID, big-endian
          const hex = buf.toString('hex', p, p + 16);
          return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
        }
        default:
          throw new VariantFormatError(`unknown primitive type id ${header}`);
      }
    }
  }
}

/** Decode one variant (value + metadata bytes) into SparkValues. */
export function decodeVariant(value: Uint8Array, metadata: Uint8Array): SparkValue {
  return decodeAt(value, 0, variantDictionary(metadata));
}
