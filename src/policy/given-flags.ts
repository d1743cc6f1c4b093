/** The subset of `flags` that a kind's own options name and the user gave (recorded with results). */
export function givenFlags(options: Readonly<Record<string, unknown>>, flags: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(options).filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]));
}
