/** Defaults the CDC jobs share with the demonstration (jobs/cdc.ts), declared once. Paths are project-relative. */
export const DEFAULT_CUSTOMERS_INPUT = 'data/processed/customers';
export const DEFAULT_STATE_DIR = 'models';
export const DEFAULT_MODEL_REPORT = 'reports/cdc-model.json';
export const DEFAULT_LAMBDA = 1.0;
export const DEFAULT_SEED = 42;
