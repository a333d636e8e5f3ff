/** Setting and parameter names whose values are secrets: never printed, never written to a report. */
export const SECRET_KEY = /token|secret|password|credential/i;

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

/** `text` with the value of every secret-looking `key=value` (separated by `;`, `&`, whitespace or the end) hidden. */
export function redactText(text: string): string {
  return text.replace(/([\w.-]*(?:token|secret|password|credential)[\w.-]*=)[^;&\s]*/gi, '$1(hidden)');
}
