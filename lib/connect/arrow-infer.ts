// Schema inference for createDataFrame(rows) without a schema.
import { arrayType, decimalType, mapType, structField, structType, type DataType, type StructType } from './types';
import { Decimal, SparkDate, SparkGeography, SparkGeometry, SparkTime, SparkTimestamp } from './values';
import { EncodeError, describeValue } from './arrow-encode';

function inferValueType(v: unknown, path: string): DataType | null {
  if (v == null) return null;
  if (typeof v === 'boolean') return { type: 'boolean' };
  if (typeof v === 'bigint') return { type: 'long' };
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'long' } : { type: 'double' };
  if (typeof v === 'string') return { type: 'string' };
  if (v instanceof Uint8Array) return { type: 'binary' };
  if (v instanceof Decimal) return decimalType(38, 18);
  if (v instanceof SparkDate) return { type: 'date' };
  if (v instanceof SparkTimestamp) return { type: v.ntz ? 'timestamp_ntz' : 'timestamp' };
  if (v instanceof Date) return { type: 'timestamp' };
  if (v instanceof SparkTime) return { type: 'time', precision: 6 };
  if (v instanceof SparkGeometry) return { type: 'geometry', srid: v.srid };
  if (v instanceof SparkGeography) return { type: 'geography', srid: v.srid };
  if (Array.isArray(v)) {
    let el: DataType | null = null;
    v.forEach((item, i) => {
      el = mergeTypes(el, inferValueType(item, `${path}[${i}]`), `${path}[]`);
    });
    return arrayType(el ?? { type: 'null' }, true);
  }
  if (v instanceof Map) {
    let k: DataType | null = null;
    let val: DataType | null = null;
    for (const [key, value] of v) {
      k = mergeTypes(k, inferValueType(key, `${path}{key}`), `${path}{key}`);
      val = mergeTypes(val, inferValueType(value, `${path}{value}`), `${path}{value}`);
    }
    return mapType(k ?? { type: 'string' }, val ?? { type: 'null' }, true);
  }
  if (typeof v === 'object') {
    return structType(
      Object.entries(v as Record<string, unknown>).map(([k, x]) =>
        structField(k, inferValueType(x, `${path}.${k}`) ?? { type: 'null' }, true),
      ),
    );
  }
  throw new EncodeError(path, `cannot infer a Spark type for ${describeValue(v)}`);
}

function mergeTypes(a: DataType | null, b: DataType | null, path: string): DataType | null {
  if (a === null || a.type === 'null') return b ?? a;
  if (b === null || b.type === 'null') return a;
  if (a.type === 'long' && b.type === 'double') return b;
  if (a.type === 'double' && b.type === 'long') return a;
  if (a.type === 'array' && b.type === 'array')
    return arrayType(mergeTypes(a.elementType, b.elementType, `${path}[]`) ?? { type: 'null' }, true);
  if (a.type === 'map' && b.type === 'map') {
    return mapType(
      mergeTypes(a.keyType, b.keyType, path) ?? { type: 'string' },
      mergeTypes(a.valueType, b.valueType, path) ?? { type: 'null' },
      true,
    );
  }
  if (a.type === 'struct' && b.type === 'struct') {
    const fields = a.fields.map((f) => {
      const other = b.fields.find((g) => g.name === f.name);
      return structField(f.name, mergeTypes(f.dataType, other?.dataType ?? null, `${path}.${f.name}`) ?? { type: 'null' }, true);
    });
    for (const g of b.fields) if (!fields.some((f) => f.name === g.name)) fields.push(structField(g.name, g.dataType, true));
    return structType(fields);
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return a;
  throw new EncodeError(path, `values have different types (${a.type} and ${b.type}); pass a schema`);
}

/** Infer a schema from row objects as PySpark does (integers -> long, fractions -> double, objects -> struct). */
export function inferSchema(rows: Array<Record<string, unknown>>): StructType {
  const names: string[] = [];
  const types = new Map<string, DataType | null>();
  rows.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row))
      throw new EncodeError(`row ${i}`, 'schema inference needs objects keyed by column name; pass a schema for positional rows');
    for (const [k, v] of Object.entries(row)) {
      if (!types.has(k)) {
        names.push(k);
        types.set(k, null);
      }
      types.set(k, mergeTypes(types.get(k) ?? null, inferValueType(v, `row ${i}.${k}`), k));
    }
  });
  return structType(names.map((k) => structField(k, types.get(k) ?? { type: 'null' }, true)));
}
