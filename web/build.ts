import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

// Builds the page into a folder any static host can serve: the bundle of
// web/main.ts (the same src/ code as the command line, for the browser), the
// HTML, and the real E003 sample from ../shared/datasets when it is there.
// Usage: npx tsx web/build.ts [OUT_DIR]   (default dist/web)

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_WEB_DIR = join(ROOT, 'dist', 'web');
const SHADERS = join(ROOT, 'shaders');
export const SAMPLE_DIR = resolve(ROOT, '..', 'shared', 'datasets', 'derived_deepchrome_format');
export const SAMPLE_FILES = ['E003_sample600.train.csv.gz', 'E003_sample600.valid.csv.gz', 'E003_sample600.test.csv.gz'];

function wgslFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? wgslFiles(p) : e.name.endsWith('.wgsl') ? [p] : [];
  });
}

/** Replaces src/gpu/shaderFiles.ts (node:fs) with a module holding every shaders/**\/*.wgsl as a string. */
export const bundledShaders: Plugin = {
  name: 'bundled-shaders',
  setup(b) {
    b.onResolve({ filter: /[\\/]shaderFiles\.ts$/ }, (args) => ({ path: resolve(args.resolveDir, args.path), namespace: 'bundled-shaders' }));
    b.onLoad({ filter: /.*/, namespace: 'bundled-shaders' }, () => {
      const files = wgslFiles(SHADERS);
      const sources = Object.fromEntries(files.map((f) => [relative(SHADERS, f).replace(/\\/g, '/').replace(/\.wgsl$/, ''), readFileSync(f, 'utf8')]));
      return {
        loader: 'js',
        watchFiles: files,
        contents:
          `const SOURCES = ${JSON.stringify(sources)};\n` +
          'export function readShaderFile(name) { return Object.prototype.hasOwnProperty.call(SOURCES, name) ? SOURCES[name] : undefined; }\n' +
          'export function shaderLocation(name) { return `shaders/${name}.wgsl (bundled into the page)`; }\n',
      };
    });
  },
};

export interface WebBuild {
  readonly dir: string;
  /** False when ../shared/datasets was missing: the page then offers only the user's own files. */
  readonly sampleBundled: boolean;
}

export async function buildWeb(outDir: string = DEFAULT_WEB_DIR): Promise<WebBuild> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'web', 'main.ts')],
    bundle: true,
    // The check that nothing in the page's import graph needs Node: esbuild
    // refuses node:* and Node's built-in modules on this platform.
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    outfile: join(outDir, 'main.js'),
    sourcemap: true,
    minify: true,
    plugins: [bundledShaders],
    logLevel: 'silent',
  });
  copyFileSync(join(ROOT, 'web', 'index.html'), join(outDir, 'index.html'));
  const sampleBundled = SAMPLE_FILES.every((f) => existsSync(join(SAMPLE_DIR, f)));
  const sampleOut = join(outDir, 'sample');
  mkdirSync(sampleOut, { recursive: true });
  if (sampleBundled) for (const f of SAMPLE_FILES) copyFileSync(join(SAMPLE_DIR, f), join(sampleOut, f));
  writeFileSync(join(sampleOut, 'index.json'), `${JSON.stringify({ cell: 'E003', files: sampleBundled ? SAMPLE_FILES : [] })}\n`);
  return { dir: outDir, sampleBundled };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? DEFAULT_WEB_DIR);
  const built = await buildWeb(out);
  process.stderr.write(`web: built ${out}${built.sampleBundled ? '' : ` (no E003 sample: ${SAMPLE_DIR} is missing, the page will offer only the user's files)`}\n`);
}
