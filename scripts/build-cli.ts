// Builds what an installed package runs (package.json's "prepack", so `npm pack` and `npm publish` ship it):
//   dist/run.js    the `simplechrome` command (bin/simplechrome.js imports it when there is no run.ts beside it)
//   dist/main.js   the package's export: the programmatic API (src/api/index.ts: loadCell, train, predict,
//                  encode, and main(argv), a command line run in-process)
//   dist/main.d.ts its types, which re-export the declarations of the API's sources in dist/types/
//   dist/browser.js the API's browser-safe core (src/api/core.ts: train, predict, encode on a cell already read,
//                  on the page's GPU), one self-contained ES module with its shaders inside, for a page's bundler
//                  or a <script type="module">; dist/browser.d.ts its types ("simplechrome/browser")
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
import { bundledShaders } from '../web/build.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = join(ROOT, 'dist');
/** The package's export. */
const API = 'src/api/index.ts';
/** The export a page imports: what of the API needs no Node. */
const BROWSER_API = 'src/api/core.ts';
const TYPES = 'types';

/** The declarations of `entry` and of every file of ours it imports, under dist/types/ as they lie in the checkout
 * (their imports keep their .ts names, which TypeScript resolves to the .d.ts beside them), type-checked as
 * tsconfig.json has it; returns the import of the entry's declaration from dist/. */
function declarations(entry: string): string {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  if (config === undefined) throw new Error('tsconfig.json: cannot be read');
  const options: ts.CompilerOptions = { ...config.options, noEmit: false, declaration: true, emitDeclarationOnly: true, rootDir: ROOT, outDir: join(DIST, TYPES) };
  // With the ambient declarations of src/types/ (a dependency shipped without types), as the checkout compiles.
  const program = ts.createProgram([join(ROOT, entry), ...config.fileNames.filter((f) => f.endsWith('.d.ts'))], options);
  const result = program.emit();
  const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics].map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (problems.length > 0 || result.emitSkipped) throw new Error(`${entry}: its declarations cannot be emitted:\n  ${problems.join('\n  ')}`);
  return `./${TYPES}/${entry}`;
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
  // Everything inside, shaders included (the page's build does the same): a page has no node_modules to resolve.
  await build({
    absWorkingDir: ROOT,
    entryPoints: { browser: BROWSER_API },
    outdir: 'dist',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    plugins: [bundledShaders],
    logLevel: 'warning',
  });
  // run.ts's `#!/usr/bin/env -S npx tsx` would say the bundle runs through tsx; bin/simplechrome.js imports it.
  const command = join(DIST, 'run.js');
  writeFileSync(command, readFileSync(command, 'utf8').replace(/^#!.*\n/, ''));
  mkdirSync(DIST, { recursive: true });
  // The GPU's types (GPUDevice, ...) are globals from @webgpu/types, a dependency: named here, a consumer needs no set-up.
  writeFileSync(join(DIST, 'main.d.ts'), `/// <reference types="@webgpu/types" />\nexport * from '${declarations(API)}';\n`);
  writeFileSync(join(DIST, 'browser.d.ts'), `/// <reference types="@webgpu/types" />\nexport * from '${declarations(BROWSER_API)}';\n`);
}
