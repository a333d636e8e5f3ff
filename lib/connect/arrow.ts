// Arrow <-> exact JS values. Spark Connect sends each ExecutePlanResponse.arrow_batch.data as a complete Arrow
// IPC stream; LocalRelation.data is one we write. apache-arrow's own get()/toArray()/toJSON() turn int64,
// decimal and timestamps into rounded doubles or Dates, so values are read from the raw buffers here.
//
// This module is the one entry to them: decoding (arrow-decode.ts), encoding for LocalRelation
// (arrow-encode.ts) and schema inference for createDataFrame (arrow-infer.ts).
export { Decimal, SparkDate, SparkTimestamp, SparkTime, SparkGeometry, SparkGeography } from './values';
export type { CalendarInterval, SparkValue } from './values';
export {
  type Row,
  tableFromBatches,
  recordBatchesFromIPC,
  rowKeys,
  columnsFromBatch,
  rowValuesFromBatch,
  rowsFromBatch,
  appendRows,
  rowsFromTable,
  structTypeFromArrowSchema,
  dataTypeFromArrowType,
  decodeData,
} from './arrow-decode';
export {
  toArrowType,
  toArrowSchema,
  encodeColumn,
  recordBatchFromRows,
  encodeLocalRelation,
  localRelation,
  charVarcharAsString,
  tableToIPCStream,
} from './arrow-encode';
export { inferSchema } from './arrow-infer';
