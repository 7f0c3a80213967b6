/**
 * True when `text` holds a C0 control character or DEL (tab, CR and LF allowed with
 * `allowLineBreaks`). Ids and names never need them, and some databases refuse them outright
 * (PostgreSQL: NUL in text and in JSON), which would turn a client's mistake into a 500.
 */
export function hasControlCharacters(text: string, options: { allowLineBreaks?: boolean } = {}): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7f) return true;
    if (c >= 0x20) continue;
    if (options.allowLineBreaks && (c === 0x09 || c === 0x0a || c === 0x0d)) continue;
    return true;
  }
  return false;
}
