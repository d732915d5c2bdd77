// Every JavaScript and TypeScript code block of README.md runs as written: each in its own Node
// process, importing the built package by its name as a user's file would (from a temporary
// folder whose node_modules/local-response-norm links to this repository). A block that throws
// or exits non-zero fails its test. Shell blocks and plain output blocks are not run. A block
// right after a line `<!-- readme-test: skip -->` is not run either.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = join(__dirname, '..');
const SKIP = '<!-- readme-test: skip -->';

interface Block {
  line: number;
  lang: string;
  code: string;
}

/** The fenced blocks of a markdown text whose language is one of `langs`, with their line. */
function codeBlocks(markdown: string, langs: readonly string[]): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`README.md:${i + 1}: code block not closed`);
    const lang = open[1]!;
    if (langs.includes(lang) && lines[i - 1]?.trim() !== SKIP) {
      blocks.push({ line: i + 1, lang, code: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return blocks;
}

/** The block as a file Node runs: its extension and its JavaScript. */
function asScript({ lang, code }: Block): { ext: string; source: string } {
  if (lang === 'ts' || lang === 'typescript' || lang === 'mts') {
    const out = ts.transpileModule(code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      reportDiagnostics: true,
    });
    if (out.diagnostics?.length) throw new Error(ts.flattenDiagnosticMessageText(out.diagnostics[0]!.messageText, '\n'));
    return { ext: '.mjs', source: out.outputText };
  }
  if (lang === 'mjs') return { ext: '.mjs', source: code };
  if (lang === 'cjs') return { ext: '.cjs', source: code };
  // js: a module when it imports or exports, else CommonJS.
  return { ext: /^\s*(import|export)\s/m.test(code) ? '.mjs' : '.cjs', source: code };
}

const blocks = codeBlocks(readFileSync(join(root, 'README.md'), 'utf8'),
  ['js', 'javascript', 'mjs', 'cjs', 'ts', 'typescript', 'mts']);

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lrn-readme-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'local-response-norm'), 'junction');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('finds the README examples', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(5);
});

it.each(blocks.map((b) => [b.line, b] as const))('README.md:%i runs', (line, block) => {
  const { ext, source } = asScript(block);
  const file = join(dir, `block-${line}${ext}`);
  writeFileSync(file, source);
  const r = spawnSync(process.execPath, [file], {
    cwd: dir,
    env: { ...process.env, LRN_BACKEND: '', LRN_KERNEL: '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const outcome = r.error?.message ?? (r.signal !== null ? `signal ${r.signal}` : `exit code ${r.status}`);
  expect(r.status === 0 && r.signal === null ? '' : `${outcome}\n${r.stderr}`).toBe('');
});
