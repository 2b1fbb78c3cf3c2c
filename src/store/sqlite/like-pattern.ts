/**
 * A LIKE pattern that finds `text` anywhere in a column, with ESCAPE '\': the `%` and `_` (and
 * `\`) of the text match themselves, so that a search for `a_b` does not also find `axb`.
 */
export function containsPattern(text: string): string {
  let out = '';
  for (const ch of text) out += ch === '%' || ch === '_' || ch === '\\' ? `\\${ch}` : ch;
  return `%${out}%`;
}
