/**
 * Finds the TypeScript code blocks of a Markdown file, so the typecheck compiles what the
 * docs quote and a doc can no longer drift from the API (STYLE.md, habit 12).
 *
 * A block is a fence whose info string starts with `ts` or `typescript`. After the language:
 * - `fragment` skips it (a piece that cannot stand alone; keep these rare);
 * - `continued` compiles it in one module with the block before it in the same file.
 * An HTML comment directly above a block that starts with `snippet-prelude` holds lines the
 * reader does not need (imports, `declare const store: ...`); they are compiled before it:
 *
 *     <!-- snippet-prelude
 *     import { openSqliteStore } from '@concord/sqlite';
 *     -->
 *     ```ts
 */

export interface DocSnippet {
  /** The Markdown file, as given. */
  readonly source: string;
  /** 1-based line of the block's first line of code. */
  readonly line: number;
  /** Hidden lines compiled before the code. */
  readonly prelude: readonly string[];
  readonly code: readonly string[];
  /** Blocks marked `continued`, in order. */
  readonly continuations: ReadonlyArray<{ readonly line: number; readonly prelude: readonly string[]; readonly code: readonly string[] }>;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/;
const PRELUDE_START = /^\s*<!--\s*snippet-prelude\b(.*)$/;

/** The blocks to compile in `markdown`, in order; fragments left out. */
export function findDocSnippets(source: string, markdown: string): DocSnippet[] {
  const lines = markdown.split('\n');
  const snippets: Array<DocSnippet & { continuations: DocSnippet['continuations'][number][] }> = [];
  let prelude: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const prel = PRELUDE_START.exec(text);
    if (prel) {
      const body: string[] = [];
      let rest = prel[1]!;
      for (;;) {
        const end = rest.indexOf('-->');
        if (end >= 0) {
          if (rest.slice(0, end).trim()) body.push(rest.slice(0, end));
          break;
        }
        if (rest.trim()) body.push(rest);
        if (++i >= lines.length) throw new Error(`${source}:${i}: snippet-prelude is never closed with -->`);
        rest = lines[i]!;
      }
      prelude = dedent(body);
      continue;
    }
    const open = FENCE.exec(text);
    if (!open) {
      if (text.trim()) prelude = [];
      continue;
    }
    const [, indent, fence, language, info] = open as unknown as [string, string, string, string, string];
    const code: string[] = [];
    const start = i + 2;
    for (i++; i < lines.length; i++) {
      const close = FENCE.exec(lines[i]!);
      if (close && close[2]![0] === fence[0] && close[2]!.length >= fence.length && !close[3] && !close[4]!.trim()) break;
      code.push(lines[i]!.startsWith(indent) ? lines[i]!.slice(indent.length) : lines[i]!.trimStart());
    }
    const words = info.trim().split(/\s+/);
    if ((language === 'ts' || language === 'typescript') && !words.includes('fragment')) {
      const previous = snippets.at(-1);
      if (words.includes('continued')) {
        if (!previous) throw new Error(`${source}:${start - 1}: a continued block needs a block before it`);
        previous.continuations.push({ line: start, prelude, code });
      } else snippets.push({ source, line: start, prelude, code, continuations: [] });
    }
    prelude = [];
  }
  return snippets;
}

function dedent(lines: readonly string[]): string[] {
  const indents = lines.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut));
}

/** One module per snippet: its prelude and code, each part headed by where it comes from. */
export function snippetModule(snippet: DocSnippet): string {
  const parts = [snippet, ...snippet.continuations];
  const out = [`// Generated from ${snippet.source} by tools/doc-snippets: edit the Markdown, not this file.`];
  for (const part of parts) {
    if (part.prelude.length) out.push(`// ${snippet.source}:${part.line}, hidden prelude`, ...part.prelude);
    out.push(`// ${snippet.source}:${part.line}`, ...part.code);
  }
  // A module of its own: names declared in two snippets never collide.
  out.push('export {};', '');
  return out.join('\n');
}
