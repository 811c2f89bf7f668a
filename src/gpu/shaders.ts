import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { readShaderFile, shaderLocation } from './shaderFiles.ts';

// Kernel families live one per file in shaders/. Variants (transposes,
// fused epilogues) are selected with wgsl-preprocessor's #if/#elif/#else,
// written in the .wgsl file as `#if NAME`; numbers that only size things are
// WGSL override constants, set at pipeline creation.

const sources = new Map<string, string>();
// WGSL has no includes; shared helpers (activations, the RNG) are pasted in
// with `#include "name"` (shaders/name.wgsl) before preprocessing.
const INCLUDE = /^#include[ \t]+"([A-Za-z0-9_/]+)"[ \t]*$/gm;

export function shaderSource(shader: string): string {
  let src = sources.get(shader);
  if (src === undefined) {
    src = readShaderFile(shader);
    if (src === undefined) throw new Error(`shader "${shader}": no file ${shaderLocation(shader)}`);
    src = src.replace(INCLUDE, (_line, file: string) => shaderSource(file));
    sources.set(shader, src);
  }
  return src;
}

const FLAG = /#(if|elif)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/g;

/** Resolves `#if NAME` blocks with the given flags. A flag the file never
 * mentions is an error (a typo would otherwise silently pick the #else). */
export function preprocess(shader: string, source: string, defines: Readonly<Record<string, boolean>>): string {
  const strings: string[] = [];
  const values: boolean[] = [];
  const seen = new Set<string>();
  let last = 0;
  for (const m of source.matchAll(FLAG)) {
    const name = m[2] as string;
    seen.add(name);
    strings.push(source.slice(last, (m.index ?? 0) + 1 + (m[1] as string).length));
    values.push(defines[name] === true);
    last = (m.index ?? 0) + m[0].length;
  }
  strings.push(source.slice(last));
  for (const name of Object.keys(defines)) {
    if (!seen.has(name)) throw new Error(`shader "${shader}": flag ${name} is not used by the file`);
  }
  const raw = Object.assign([...strings], { raw: strings }) as unknown as TemplateStringsArray;
  try {
    return wgsl(raw, ...values);
  } catch (e) {
    throw new Error(`shader "${shader}": ${(e as Error).message}`);
  }
}
