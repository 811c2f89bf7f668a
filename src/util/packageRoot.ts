import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The folder that holds simplechrome's package.json: a checkout, or where npm
// installed the package. Found by walking up from this module rather than by a
// fixed '../..', because the module sits at another depth in the sources
// (src/util/) than in the built command (dist/, see scripts/build-cli.ts).

const NAME = 'simplechrome';

function manifestAt(dir: string): { name?: unknown; version?: unknown } | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
}

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (manifestAt(dir)?.name === NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of ${NAME} in ${from} or any folder above it`);
  }
}

/** The package's folder, without a trailing slash. */
export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** Whether `root` holds the TypeScript sources (run.ts): a checkout, where simplechrome may keep files it makes
 * (the demo data in datasets/synthetic), rather than an installed package, which holds only the built command
 * and is npm's to replace. bin/simplechrome.js tells the two apart by the same file. */
export function isCheckout(root: string = PACKAGE_ROOT): boolean {
  return existsSync(join(root, 'run.ts'));
}

/** The version in package.json, the one place it is written. */
export function packageVersion(): string {
  const version = manifestAt(PACKAGE_ROOT)?.version;
  if (typeof version !== 'string') throw new Error(`${join(PACKAGE_ROOT, 'package.json')} has no version`);
  return version;
}
