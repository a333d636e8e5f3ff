/**
 * Small helpers written once for the whole project. Imports nothing else of ours (like lib/connect, it is a
 * bottom layer). The one abortable sleep is the client's: lib/connect/retry.ts (re-exported by lib/runtime/process).
 */
export { JobInputError, UsageError, errorMessage } from './errors';
export { writeFileAtomic, writeJson, readJson, toJson, type WriteFileOptions } from './json';
export { formatBytes } from './bytes';
export { SECRET_KEY, redactArgs, redactText } from './secrets';
