import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The house's floors (docs/ARCHITECTURE.md): a file imports only from its own
// floor or below, so each floor can be read, tested and reused without the
// ones above it. Read from the import statements themselves, so a new arrow
// back up fails here, naming the file and the import.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** src/<folder> → its floor; folders on one floor may import each other. */
const FLOORS: Readonly<Record<string, number>> = {
  core: 0,
  util: 0,
  types: 0,
  metrics: 0,
  stats: 0,
  cpu: 1,
  data: 1,
  kernels: 2,
  gpu: 3,
  plan: 3,
  nn: 4,
  models: 5,
  train: 6,
  checkpoint: 7,
  plots: 8,
  cli: 9,
  // The programmatic API (src/api): the browser-safe core.ts over the training core, and the package entry index.ts,
  // which reuses the command line's run directory (trainToDirectory) for `out`.
  api: 10,
};

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Every relative module a file imports or re-exports (static and dynamic), as a path from the root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? '',
  );
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)));
}

function floorOf(path: string): number | undefined {
  const [top, folder] = path.split('/');
  return top === 'src' && folder !== undefined ? FLOORS[folder] : undefined;
}

describe('layers', () => {
  it('gives every folder of src/ a floor, and keeps no loose file at its root', () => {
    for (const file of filesUnder('src')) {
      const folder = file.split('/')[1] ?? '';
      expect(file.split('/').length > 2 && FLOORS[folder] !== undefined, `${file} is on no floor (test/layers.test.ts FLOORS)`).toBe(true);
    }
  });

  it('has no import in src/ that points up a floor', () => {
    const up: string[] = [];
    for (const file of filesUnder('src')) {
      const from = floorOf(file) ?? -1;
      for (const target of importsOf(file)) {
        const to = floorOf(target);
        if (to !== undefined && to > from) up.push(`${file} -> ${target}`);
      }
    }
    expect(up).toEqual([]);
  });

  it('has web/ import nothing from src/cli: the page drives the training core in src/train, as the command line does', () => {
    const found = filesUnder('web').flatMap((file) => importsOf(file).filter((t) => t.startsWith('src/cli/')).map((t) => `${file} -> ${t}`));
    expect(found, 'web/ -> src/cli imports').toEqual([]);
    // The check can fail: the page does import the training core.
    expect(importsOf('web/main.ts').some((t) => t.startsWith('src/train/'))).toBe(true);
  });

  it('reads imports as the code writes them', () => {
    expect(importsOf('src/plan/selfCheck.ts')).toContain('src/kernels/families.ts');
    expect(importsOf('src/kernels/kernel.ts')).toEqual(expect.arrayContaining(['src/kernels/gpuTarget.ts', 'src/core/tensor.ts']));
  });
});
