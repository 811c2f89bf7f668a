import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticHome } from '../src/cli/session/dataSource.ts';
import { PACKAGE_ROOT } from '../src/util/packageRoot.ts';
import { run, snapshot } from './cliHelpers.ts';

// The package as a user installs it: `npm pack` (whose prepack step builds dist/), the tarball installed into
// a temporary prefix, and the `simplechrome` that npm links there run by name from another directory.
//
// Offline. npm's cache holds the dependencies' tarballs (the set-up's `npm ci` put them there) but not the
// registry's metadata that resolving a version range needs, so `npm install -g ./simplechrome-*.tgz --offline`
// stops at the first dependency (ENOTCACHED). Instead the tarball goes into a scratch project whose lockfile
// pins simplechrome to the tarball and every dependency to the version and integrity hash this checkout's
// package-lock.json has: `npm ci --offline` takes each from the cache by its hash, unpacks the tarball and
// links its bin as a global install does, and asks no network. --ignore-scripts: the only install script among
// the dependencies is webgpu's, which clears a macOS quarantine flag (dawn.node ships inside the package), and
// npm does not run a dependency's scripts unasked anyway.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../shared/datasets/derived_deepchrome_format/E003_sample600', import.meta.url));
const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

let root = '';
let installed = '';
let bin = '';
let elsewhere = '';
let cache = '';
let contents: string[] = [];

async function npm(args: readonly string[], cwd: string): Promise<void> {
  const r = await run('npm', args, cwd);
  if (r.code !== 0) throw new Error(`npm ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

/** `simplechrome ARGS` found on PATH, run in `elsewhere`, with its own cache folder. */
function simplechrome(args: readonly string[]) {
  return run('simplechrome', args, elsewhere, { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, XDG_CACHE_HOME: cache });
}

/** A lockfile that installs the tarball with the dependencies this checkout's lockfile pins (see the top). */
function scratchProject(dir: string, tarball: string): void {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const runtime = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev !== true);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const dependencies = { simplechrome: `file:${tarball}` };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'simplechrome-install-test', private: true, dependencies }));
  const packages = {
    '': { name: 'simplechrome-install-test', dependencies },
    'node_modules/simplechrome': { version: manifest.version, resolved: `file:${tarball}`, integrity, dependencies: manifest.dependencies, bin: { simplechrome: 'bin/simplechrome.js' } },
    ...Object.fromEntries(runtime),
  };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'simplechrome-install-test', lockfileVersion: 3, requires: true, packages }));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sc-install-'));
  const packed = join(root, 'pack');
  const prefix = join(root, 'prefix');
  elsewhere = join(root, 'elsewhere');
  cache = join(root, 'cache');
  for (const d of [packed, prefix, elsewhere, cache]) mkdirSync(d);
  await npm(['pack', '--pack-destination', packed, '--silent'], REPO);
  const tarball = join(packed, `simplechrome-${manifest.version}.tgz`);
  const tar = await run('tar', ['tzf', tarball], root);
  contents = tar.stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/^package\//, ''));
  scratchProject(prefix, tarball);
  await npm(['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], prefix);
  installed = join(prefix, 'node_modules', 'simplechrome');
  bin = join(prefix, 'node_modules', '.bin');
  // An installed package may sit where the user cannot write (a system prefix): mark it so, which
  // isWritableDirectory honours even for root.
  folderModes(installed, 0o555);
}, 600_000);

// The install is some 170 MB (webgpu carries Dawn for five platforms): not left in the temporary folder.
afterAll(() => {
  if (installed !== '') folderModes(installed, 0o755);
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

function folderModes(dir: string, mode: number): void {
  chmodSync(dir, mode);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) folderModes(join(dir, e.name), mode);
}

describe('npm pack', () => {
  it('ships the built command, its types, every shader and the docs, and no sources or tests', () => {
    for (const f of ['package.json', 'README.md', 'bin/simplechrome.js', 'dist/run.js', 'dist/main.js', 'dist/main.d.ts', 'dist/browser.js', 'dist/browser.d.ts', 'dist/types/src/api/index.d.ts', 'datasets/README.md', 'docs/USING.md']) {
      expect(contents, f).toContain(f);
    }
    const shaders = readdirSync(join(REPO, 'shaders'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.wgsl'))
      .map((e) => relative(REPO, join(e.parentPath, e.name)));
    expect(shaders.length).toBeGreaterThan(20);
    for (const s of shaders) expect(contents, s).toContain(s);
    expect(contents.filter((f) => /^(src|test|bench|web|node_modules)\/|^run\.ts$|^package-lock\.json$/.test(f))).toEqual([]);
  });

  it('leaves no build behind in the checkout, which runs its sources', () => {
    expect(existsSync(join(REPO, 'dist'))).toBe(false);
  });
});

describe('the installed command, run from another directory', () => {
  it('--version prints the version in package.json', async () => {
    const r = await simplechrome(['--version']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${manifest.version}\n`);
  });

  it('--help names the command as it is installed', async () => {
    const r = await simplechrome(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^simplechrome: predict gene expression/);
    expect(r.stdout).toContain('usage: simplechrome train [options]');
    expect(r.stdout).toContain('simplechrome --version');
    expect(r.stdout).not.toContain('tsx run.ts');
  });

  it('a mistyped flag is refused with the flag it was likely meant to be', async () => {
    const r = await simplechrome(['train', '--epoch', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('simplechrome: unknown argument "--epoch" (did you mean --epochs? see --help)\n');
  });

  it('runs every kernel on the GPU from the .wgsl files it ships (self-check)', async () => {
    const r = await simplechrome(['self-check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^all \d+ kernels agree with the CPU reference$/m);
  });

  it('trains one epoch with --data and --out relative to the working directory', async () => {
    const r = await simplechrome(['train', '--cpu', '--model', 'mlp', '--epochs', '1', '--train-size', '100', '--data', relative(elsewhere, SAMPLE), '--out', 'run', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(elsewhere, 'run', 'metrics.json'), 'utf8')) as { model: string; cell: string; history: unknown[] };
    expect([metrics.model, metrics.cell, metrics.history.length]).toEqual(['mlp', 'E003', 1]);
    expect(existsSync(join(elsewhere, 'run', 'predictions.csv'))).toBe(true);
    // The advice names the installed command, not a checkout's run.ts.
    expect(r.stderr).toContain('a stopped run continues with: simplechrome --resume run');
  });

  it('with no --data trains on the synthetic demo set, made in the user cache, and writes nothing into the package', async () => {
    const before = snapshot(installed);
    const r = await simplechrome(['train', '--cpu', '--model', 'mlp', '--epochs', '1', '--train-size', '100', '--out', 'demo', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const demo = join(cache, 'simplechrome', 'synthetic');
    expect(r.stderr).toContain(`data: simplechrome is installed as a package (in ${installed}, which it leaves as npm wrote it), so the demo set is kept in ${demo}`);
    expect(r.stderr).toContain(`data: no --data given, so this runs on SYNTHETIC demo data (${join(demo, 'SYNTHETIC')}); its numbers mean nothing.`);
    expect(r.stderr).toContain(join(installed, 'datasets', 'README.md'));
    expect(r.stdout).toContain('SYNTHETIC data: these numbers mean nothing.');
    expect(existsSync(join(demo, 'SYNTHETIC', 'classification', 'test.csv'))).toBe(true);
    expect(snapshot(installed)).toEqual(before);
  });

  it("exports the API and main(), with types that TypeScript finds through the package's exports", async () => {
    const project = join(installed, '..', '..');
    writeFileSync(
      join(project, 'consumer.mts'),
      "import { type ClassScores, type Trained, encode, loadCell, main, predict, train } from 'simplechrome';\n" +
        'const code: number = await main([\'--version\']);\n' +
        "const trained: Trained = await train(await loadCell('cell'), { model: 'mlp', trainSize: 100, epochs: 1, device: 'cpu' });\n" +
        'const auroc: number = (trained.test as ClassScores).auroc;\n' +
        "const p: Float32Array = (await predict(trained, await loadCell('cell'))).values;\n" +
        'process.exitCode = code + auroc + p.length + (typeof encode === \'function\' ? 0 : 1);\n' +
        "import { type Cell, acquireBrowserGpu, train as trainInPage } from 'simplechrome/browser';\n" +
        'const inPage = (cell: Cell) => trainInPage(cell, { model: \'logreg\', trainSize: 100 });\n' +
        'void inPage; void acquireBrowserGpu;\n',
    );
    const tsc = await run(
      process.execPath,
      [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(REPO, 'node_modules', '@types'), 'consumer.mts'],
      project,
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    const r = await run(process.execPath, ['--input-type=module', '-e', "import { main } from 'simplechrome'; process.exitCode = await main(['--version']);"], project);
    expect([r.code, r.stdout]).toEqual([0, `${manifest.version}\n`]);
    // The API from the installed bundle, in another folder: the checkout's command line's number, bit for bit.
    const script = `import { loadCell, train } from 'simplechrome'; const t = await train(await loadCell(${JSON.stringify(SAMPLE)}), { model: 'mlp', trainSize: 100, epochs: 1, device: 'cpu' }); process.stdout.write(String(t.test.auroc));`;
    const api = await run(process.execPath, ['--input-type=module', '-e', script], project, { ...process.env, XDG_CACHE_HOME: cache });
    expect(api.code, api.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(elsewhere, 'run', 'metrics.json'), 'utf8')) as { test: { auroc: number } };
    expect(api.stdout).toBe(String(metrics.test.auroc));
    // The browser-safe bundle (simplechrome/browser, what a page imports) runs the same engine: the same number.
    const inPage = `import { loadCell } from 'simplechrome'; import { train } from 'simplechrome/browser'; const t = await train(await loadCell(${JSON.stringify(SAMPLE)}), { model: 'mlp', trainSize: 100, epochs: 1 }); process.stdout.write(String(t.test.auroc));`;
    const page = await run(process.execPath, ['--input-type=module', '-e', inPage], project, { ...process.env, XDG_CACHE_HOME: cache });
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toBe(String(metrics.test.auroc));
  });
});

describe('in the checkout', () => {
  it('npx simplechrome runs the sources, from any folder of it', async () => {
    const r = await run('npx', ['simplechrome', '--version'], join(REPO, 'test'));
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${manifest.version}\n`, '']);
    const help = await run('npx', ['simplechrome', '--help'], REPO);
    expect(help.stdout).toContain('usage: tsx run.ts train [options]');
  });
});

describe('where the synthetic demo set goes', () => {
  const scratch = (): string => mkdtempSync(join(root, 'home-'));

  it("is the checkout's datasets/synthetic", () => {
    expect(syntheticHome(PACKAGE_ROOT)).toEqual({ dir: join(PACKAGE_ROOT, 'datasets', 'synthetic'), why: undefined });
  });

  it("is the user cache, saying why, when the checkout's datasets/ cannot be written", () => {
    const checkout = scratch();
    writeFileSync(join(checkout, 'run.ts'), '');
    mkdirSync(join(checkout, 'datasets'), { mode: 0o555 });
    const home = syntheticHome(checkout);
    expect(home.dir).toMatch(/[/]simplechrome[/]synthetic$/);
    expect(home.why).toBe(`${join(checkout, 'datasets')} cannot be written, so the demo set is kept in ${home.dir}`);
  });

  it('is the user cache for an installed package, even one whose folder could be written', () => {
    const pkg = scratch();
    mkdirSync(join(pkg, 'datasets'));
    const home = syntheticHome(pkg);
    expect(home.dir).toMatch(/[/]simplechrome[/]synthetic$/);
    expect(home.why).toContain(`simplechrome is installed as a package (in ${pkg}`);
  });
});
