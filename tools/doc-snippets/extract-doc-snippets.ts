/**
 * Writes every TypeScript block of the docs (docs/*.md, the root README and every package's
 * and example's README) as a module under tools/doc-snippets/generated/, which
 * tsconfig.docs.json compiles: `npm run typecheck` runs both. See doc-snippets.ts for the
 * markers (`fragment`, `continued`, `snippet-prelude`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findDocSnippets, snippetModule } from './doc-snippets.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(here, 'generated');

const markdown = (dir: string) =>
  existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((f) => f.endsWith('.md')).map((f) => join(dir, f)) : [];
const readmes = (dir: string) =>
  readdirSync(join(root, dir))
    .map((d) => join(dir, d, 'README.md'))
    .filter((f) => existsSync(join(root, f)));
const sources = [...markdown('docs'), 'README.md', ...readmes('packages'), ...readmes('examples')];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
let count = 0;
for (const source of sources) {
  const name = source.replaceAll('/', '__').replace(/\.md$/, '');
  for (const snippet of findDocSnippets(source, readFileSync(join(root, source), 'utf8'))) {
    writeFileSync(join(out, `${name}.${snippet.line}.ts`), snippetModule(snippet));
    count++;
  }
}
console.log(`doc snippets: ${count} blocks of ${sources.length} Markdown files in ${relative(root, out)}/`);
