import { describe, expect, it } from 'vitest';
import { hasControlCharacters } from './control-characters.js';

describe('hasControlCharacters', () => {
  it('finds NUL, other C0 characters and DEL; allows line breaks only when asked', () => {
    expect(['a\u0000b', '\u001f', 'x\u007f', 'a\nb'].map((t) => hasControlCharacters(t))).toEqual([true, true, true, true]);
    expect(['plain', 'é ü 💥', ''].map((t) => hasControlCharacters(t))).toEqual([false, false, false]);
    expect(hasControlCharacters('line\r\n\tnext', { allowLineBreaks: true })).toBe(false);
    expect(hasControlCharacters('line\u0000', { allowLineBreaks: true })).toBe(true);
  });
});
