import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_NAMES } from '../src/models/registry.ts';

// A model is one definition under src/models/definitions/ that every part
// asks (docs/ARCHITECTURE.md, "Where to add a model"). A model's name written
// as a string literal anywhere else under src/ or web/ is a decision about
// that model taken far from its definition, which a new model would silently
// miss: this test fails naming the file, the line and the name. Built from
// MODEL_NAMES, so a new model is covered as soon as it is registered.

const ROOT = join(import.meta.dirname, '..');

/** A literal that is a model's name but means something else, by file and the text on its line. */
const EXCEPTIONS: readonly { readonly file: string; readonly line: RegExp; readonly reason: string }[] = [
  { file: 'src/data/loadCell.ts', line: /'deepchrome'/, reason: "the layout of DeepChrome's data files (Layout), not the model" },
  { file: 'web/main.ts', line: /layout: .*'deepchrome'/, reason: "the layout of the files the page read (DeepChrome's), not the model" },
  { file: 'src/data/loadCell.ts', line: /'attentivechrome'/, reason: "the layout of AttentiveChrome's data files (Layout), not the model" },
  { file: 'web/main.ts', line: /layout: .*'attentivechrome'/, reason: "the layout of the files the page read (AttentiveChrome's), not the model" },
];

function sourceFiles(): string[] {
  return ['src', 'web']
    .flatMap((dir) => readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)))
    .filter((f) => f.endsWith('.ts') && !f.startsWith(join('src', 'models') + '/'));
}

/** Every string literal of TypeScript source with its line: quoted strings, and the text parts of template literals.
 * Comments are skipped, so a comment may name a model. */
export function stringLiterals(source: string): { readonly text: string; readonly line: number }[] {
  const out: { text: string; line: number }[] = [];
  let line = 1;
  let i = 0;
  const templateDepth: number[] = []; // brace depth at which each open ${…} returns to its template
  let braces = 0;
  const readString = (quote: string): void => {
    const start = line;
    let text = '';
    while (i < source.length && source[i] !== quote) {
      if (source[i] === '\\') {
        text += source[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (quote === '`' && source[i] === '$' && source[i + 1] === '{') {
        out.push({ text, line: start });
        i += 2;
        templateDepth.push(braces);
        braces++;
        return;
      }
      if (source[i] === '\n') line++;
      text += source[i];
      i++;
    }
    i++;
    out.push({ text, line: start });
  };
  while (i < source.length) {
    const c = source[i] as string;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      for (let j = i; j < stop; j++) if (source[j] === '\n') line++;
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      i++;
      readString(c);
    } else if (c === '{') {
      braces++;
      i++;
    } else if (c === '}') {
      braces--;
      i++;
      // The end of a ${…}: the template's text goes on.
      if (templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === braces) {
        templateDepth.pop();
        readString('`');
      }
    } else {
      i++;
    }
  }
  return out;
}

describe('model names outside src/models', () => {
  it('reads literals and skips comments', () => {
    const src = "// 'mlp'\nconst a = 'mlp'; /* \"logreg\" */ const b = `x ${'vae-m2'} y ${c({})}z`;\nconst d = \"deepchrome\";";
    expect(stringLiterals(src)).toEqual([
      { text: 'mlp', line: 2 },
      { text: 'x ', line: 2 },
      { text: 'vae-m2', line: 2 },
      { text: ' y ', line: 2 },
      { text: 'z', line: 2 },
      { text: 'deepchrome', line: 3 },
    ]);
  });

  it('appear as string literals only in the exceptions listed', () => {
    const names = new Set<string>(MODEL_NAMES);
    const found: string[] = [];
    for (const file of sourceFiles()) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      const lines = source.split('\n');
      for (const { text, line } of stringLiterals(source)) {
        if (!names.has(text)) continue;
        const path = relative(ROOT, join(ROOT, file));
        if (EXCEPTIONS.some((e) => e.file === path && e.line.test(lines[line - 1] ?? ''))) continue;
        found.push(`${path}:${line}: '${text}'`);
      }
    }
    expect(found, 'ask the model\'s definition (src/models/registry.ts) instead of naming it').toEqual([]);
  });
});
