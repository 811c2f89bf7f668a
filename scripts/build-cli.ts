// Builds what an installed package runs (package.json's "prepack", so `npm pack` and `npm publish` ship it):
//   dist/run.js    the `simplechrome` command (bin/simplechrome.js imports it when there is no run.ts beside it)
//   dist/main.js   the package's export: main(argv), a command line run in-process
//   dist/main.d.ts its types
// One esbuild bundle (the two entries share a chunk) with every dependency left to node_modules. Why built
// JavaScript and not tsx: `simplechrome --help` starts in about a fifth of the time (bench/RESULTS.md,
// 2026-12-07). The shaders stay .wgsl files, read at run time from the package's shaders/ (package.json "files").
//
//   npx tsx scripts/build-cli.ts          build into dist/
//   npx tsx scripts/build-cli.ts --clean  remove dist/ ("postpack": a checkout runs its sources, not a build)

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = join(ROOT, 'dist');
/** The package's export; its declaration is emitted from it alone (see declarationOf). */
const API = 'src/cli/main.ts';

/** The .d.ts of one file without type-checking the program (checking is `tsc --noEmit`'s job): its exports
 * must carry their types, and the declaration may use no other file of ours, which would not be shipped. */
function declarationOf(file: string): string {
  const out = ts.transpileDeclaration(readFileSync(join(ROOT, file), 'utf8'), {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { isolatedDeclarations: true, declaration: true, module: ts.ModuleKind.NodeNext, target: ts.ScriptTarget.ES2022 },
  });
  const problems = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (problems.length > 0) throw new Error(`${file}: cannot declare its exports on their own:\n  ${problems.join('\n  ')}`);
  const local = out.outputText.match(/from\s+['"]\.{1,2}\/[^'"]*['"]/g);
  if (local !== null) throw new Error(`${file}: its declaration imports ${local.join(', ')}, which the package does not ship`);
  return out.outputText;
}

rmSync(DIST, { recursive: true, force: true });
if (!process.argv.includes('--clean')) {
  await build({
    absWorkingDir: ROOT,
    entryPoints: { run: 'run.ts', main: API },
    outdir: 'dist',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  // run.ts's `#!/usr/bin/env -S npx tsx` would say the bundle runs through tsx; bin/simplechrome.js imports it.
  const command = join(DIST, 'run.js');
  writeFileSync(command, readFileSync(command, 'utf8').replace(/^#!.*\n/, ''));
  mkdirSync(DIST, { recursive: true });
  writeFileSync(join(DIST, 'main.d.ts'), declarationOf(API));
}
