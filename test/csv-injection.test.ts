import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { csvTextField } from '../src/util/csvField.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// A gene id that a spreadsheet would run as a formula (OWASP "CSV
// Injection": a cell that begins with = + - @) is written to predictions.csv
// with a leading single quote, and quoted when it holds a comma or a quote
// (src/util/csvField.ts; docs/RELIABILITY.md, "Odd files and odd values").

const root = mkdtempSync(join(tmpdir(), 'simplechrome-csv-injection-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FORMULAS = ['=HYPERLINK("http://evil/x")', '+1', '-2', '@SUM(A1)'];

describe('gene ids that a spreadsheet would take for formulas', () => {
  it('the field: a formula start gets a quote; commas and quotes are quoted; a real id is left as it is', () => {
    expect(csvTextField('ENSG00000130749')).toBe('ENSG00000130749');
    expect(csvTextField('000003')).toBe('000003');
    expect(csvTextField('=1+2')).toBe("'=1+2");
    expect(csvTextField('+1')).toBe("'+1");
    expect(csvTextField('-2')).toBe("'-2");
    expect(csvTextField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvTextField('\tx')).toBe("'\tx");
    expect(csvTextField('=HYPERLINK("http://evil/x")')).toBe(`"'=HYPERLINK(""http://evil/x"")"`);
    expect(csvTextField('a,b')).toBe('"a,b"');
  });

  it('predictions.csv of a run holds them neutralised, and the data is left as it was', async () => {
    const data = join(root, 'cell');
    const rows = (ids: readonly string[]): string =>
      ids.map((id, k) => [1, 2, 3].map((b) => `${id},${b},${(k % 2) * 5 + b},${b},1,2,3,${k % 2}`).join('\n')).join('\n') + '\n';
    mkdirSync(data);
    writeFileSync(join(data, 'train.csv'), rows(Array.from({ length: 12 }, (_, i) => `g${i}`)));
    writeFileSync(join(data, 'valid.csv'), rows(Array.from({ length: 6 }, (_, i) => `v${i}`)));
    writeFileSync(join(data, 'test.csv'), rows([...FORMULAS, 't0', 't1']));
    const before = snapshot(data);
    const out = join(root, 'run');
    const r = await runMain(['train', '--cpu', '--data', data, '--out', out, '--epochs', '1', '--model', 'logreg', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const ids = readFileSync(join(out, 'predictions.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => (line.startsWith('"') ? line.slice(0, line.lastIndexOf('"') + 1) : line.split(',')[0]));
    expect(ids).toEqual([`"'=HYPERLINK(""http://evil/x"")"`, "'+1", "'-2", "'@SUM(A1)", 't0', 't1']);
    const after = snapshot(data);
    for (const k of Object.keys(after)) if (k.startsWith('.simplechrome-cache')) delete after[k];
    expect(after).toEqual(before);
  }, 120_000);
});
