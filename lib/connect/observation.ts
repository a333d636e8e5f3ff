import type { _spark_connect_Expression_Literal__Output as LiteralOut } from './gen/spark/connect/Expression';
import { Decimal, SparkDate, SparkTime, SparkTimestamp, type SparkValue } from './values';

/**
 * Metrics observed while an action runs, as PySpark's `Observation`:
 *   const obs = new Observation('quality');
 *   await df.observe(obs, F.count(F.lit(1)).alias('rows'), F.max('x').alias('max_x')).write.parquet(out);
 *   const { rows, max_x } = await obs.get();
 * The server sends the values with the action's result; `get()` waits for them.
 */
export class Observation {
  private resolve!: (values: Record<string, SparkValue>) => void;
  private readonly values: Promise<Record<string, SparkValue>>;
  private received?: Record<string, SparkValue>;

  constructor(readonly name: string = `observation_${Math.random().toString(36).slice(2, 10)}`) {
    this.values = new Promise((resolve) => (this.resolve = resolve));
  }

  /** The observed values by metric name; waits until an action over the observed DataFrame has run. */
  get(): Promise<Record<string, SparkValue>> {
    return this.values;
  }

  /** The values if an action has delivered them, else undefined. */
  peek(): Record<string, SparkValue> | undefined {
    return this.received;
  }

  /** Called by the session when a response carries this observation's metrics. */
  deliver(keys: string[], literals: LiteralOut[]): void {
    const out: Record<string, SparkValue> = {};
    keys.forEach((k, i) =>
      Object.defineProperty(out, k, { value: literalValue(literals[i]), enumerable: true, writable: true, configurable: true }),
    );
    this.received = out;
    this.resolve(out);
  }
}

/** A literal from the server as an exact JS value (the kinds metrics take; others as their JSON text). */
export function literalValue(l: LiteralOut | undefined): SparkValue {
  if (!l || (l.null !== undefined && l.null !== null)) return null;
  if (l.boolean !== undefined) return l.boolean;
  if (l.byte !== undefined) return l.byte;
  if (l.short !== undefined) return l.short;
  if (l.integer !== undefined) return l.integer;
  if (l.long !== undefined) return BigInt(l.long);
  if (l.float !== undefined) return l.float;
  if (l.double !== undefined) return l.double;
  if (l.string !== undefined) return l.string;
  if (l.decimal) return Decimal.fromString(l.decimal.value, l.decimal.scale ?? undefined);
  if (l.date !== undefined) return new SparkDate(l.date);
  if (l.timestamp !== undefined) return new SparkTimestamp(BigInt(l.timestamp));
  if (l.timestamp_ntz !== undefined) return new SparkTimestamp(BigInt(l.timestamp_ntz), true);
  if (l.time) return new SparkTime(Number(l.time.nano));
  return JSON.stringify(l);
}
