// File names from what a capture says (Call-IDs, addresses) for `parley pcap wav` and `split`.

/** A name made safe for a file: letters, digits, '.', '-' and '_' kept, anything else '_' (at most 80). */
export function fileSafe(text: string): string {
  let out = '';
  for (const ch of text.slice(0, 80)) {
    const c = ch.charCodeAt(0);
    const keep = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || ch === '.' || ch === '-' || ch === '_';
    out += keep && ch.length === 1 ? ch : '_';
  }
  return out === '' || out === '.' || out === '..' ? '_' : out;
}
