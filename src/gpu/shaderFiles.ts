import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/packageRoot.ts';

// Where WGSL sources come from under Node: the package's shaders/ folder
// (beside src/ in a checkout; shipped beside dist/ by package.json's "files").
// The web build (web/build.ts) swaps this module for one that holds every
// shaders/**/*.wgsl as a string, with the same exports, so the page never
// needs node:fs and both read the very same files.

const SHADER_DIR = join(PACKAGE_ROOT, 'shaders', '/');

/** The text of shaders/<name>.wgsl, or undefined when there is no such file. */
export function readShaderFile(name: string): string | undefined {
  try {
    return readFileSync(`${SHADER_DIR}${name}.wgsl`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Where a shader name is looked up, for messages. */
export function shaderLocation(name: string): string {
  return `${SHADER_DIR}${name}.wgsl`;
}
