const SECRET_WORDS = 'token|secret|password|credential';
/** Setting and parameter names whose values are secrets: never printed, never written to a report. */
export const SECRET_KEY = new RegExp(SECRET_WORDS, 'i');

/**
 * A command line as it may be shown or recorded: the value of every secret-looking `key=value` (a Spark
 * Connect URL's `;token=…`, `--conf spark.x.password=…`, `--token=…`) replaced by `(hidden)`, and the word after
 * a secret-looking flag (`--token abc`) too.
 */
export function redactArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let hideNext = false;
  for (const arg of args) {
    if (hideNext) {
      out.push('(hidden)');
      hideNext = false;
      continue;
    }
    if (/^--?[\w.-]+$/.test(arg) && SECRET_KEY.test(arg)) hideNext = true;
    out.push(redactText(arg));
  }
  return out;
}

// The same words as SECRET_KEY, as the key of a `key=value`.
const SECRET_ASSIGNMENT = new RegExp(`([\\w.-]*(?:${SECRET_WORDS})[\\w.-]*=)[^;&\\s]*`, 'gi');

/** `text` with the value of every secret-looking `key=value` (separated by `;`, `&`, whitespace or the end) hidden. */
export function redactText(text: string): string {
  return text.replace(SECRET_ASSIGNMENT, '$1(hidden)');
}
