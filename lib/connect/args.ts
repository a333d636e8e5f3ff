/** Variadic arguments as PySpark takes them: `f('a', 'b')` or `f(['a', 'b'])`, flattened one level. */
export function flat<T>(items: Array<T | T[]>): T[] {
  return items.flatMap((i) => (Array.isArray(i) ? i : [i]));
}
