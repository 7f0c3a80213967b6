import { describe, expect, it } from 'vitest';
import { findDocSnippets, snippetModule } from './doc-snippets.js';

const md = [
  '# Title',
  '',
  '<!-- snippet-prelude',
  "  import { z } from 'zod';",
  '-->',
  '',
  '```ts',
  'const a = z.string();',
  '```',
  '',
  '```ts fragment',
  'not compiled',
  '```',
  '',
  '  ```ts continued',
  '  a.parse(1);',
  '  ```',
  '',
  '```sh',
  'npm test',
  '```',
  '<!-- snippet-prelude declare const b: number; -->',
  'a paragraph between the comment and the block drops the prelude',
  '```typescript',
  'b;',
  '```',
].join('\n');

describe('doc snippets', () => {
  const snippets = findDocSnippets('docs/x.md', md);

  it('finds ts and typescript blocks, leaves fragments and other languages out', () => {
    expect(snippets.map((s) => [s.line, s.code])).toEqual([
      [8, ['const a = z.string();']],
      [25, ['b;']],
    ]);
  });

  it('takes the prelude comment right above a block, and appends continued blocks, unindented', () => {
    expect(snippets[0]!.prelude).toEqual(["import { z } from 'zod';"]);
    expect(snippets[0]!.continuations).toEqual([{ line: 16, prelude: [], code: ['a.parse(1);'] }]);
    expect(snippets[1]!.prelude).toEqual([]);
  });

  it('writes one module per snippet, each part headed by its Markdown line', () => {
    expect(snippetModule(snippets[0]!).split('\n')).toEqual([
      '// Generated from docs/x.md by tools/doc-snippets: edit the Markdown, not this file.',
      '// docs/x.md:8, hidden prelude',
      "import { z } from 'zod';",
      '// docs/x.md:8',
      'const a = z.string();',
      '// docs/x.md:16',
      'a.parse(1);',
      'export {};',
      '',
    ]);
  });
});
