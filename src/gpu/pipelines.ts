import type { Access, GpuDispatch } from '../kernels/kernel.ts';
import type { Gpu } from './device.ts';
import { GpuError, checked, unlessLost } from './errors.ts';
import { preprocess, shaderSource } from './shaders.ts';

// Shader modules and pipelines are compiled once per (device, variant) and
// reused by every plan on that device.

export interface CompiledDispatch {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

const caches = new WeakMap<GPUDevice, Map<string, Promise<CompiledDispatch>>>();

function variantKey(d: GpuDispatch, access: readonly Access[]): string {
  return JSON.stringify([d.shader, d.entryPoint, d.defines ?? {}, d.constants ?? {}, d.uniforms !== undefined, access]);
}

/** The storage-buffer access of each binding decides its layout entry; WGSL
 * must declare a read slot `var<storage, read>` and a read_write slot
 * `var<storage, read_write>` in every dispatch that binds it. */
export function compileDispatch(
  gpu: Gpu,
  kernelName: string,
  d: GpuDispatch,
  access: readonly Access[],
): Promise<CompiledDispatch> {
  let cache = caches.get(gpu.device);
  if (!cache) caches.set(gpu.device, (cache = new Map()));
  const key = variantKey(d, access);
  let entry = cache.get(key);
  if (!entry) {
    entry = build(gpu, kernelName, d, access, key);
    cache.set(key, entry);
    // A failed compile must not poison the cache for a corrected retry.
    entry.catch(() => cache.delete(key));
  }
  return entry;
}

async function build(
  gpu: Gpu,
  kernelName: string,
  d: GpuDispatch,
  access: readonly Access[],
  key: string,
): Promise<CompiledDispatch> {
  const { device } = gpu;
  const what = `${kernelName} (shaders/${d.shader}.wgsl, entry ${d.entryPoint})`;
  const code = preprocess(d.shader, shaderSource(d.shader), d.defines ?? {});
  const module = await checked(gpu, `compiling ${what}`, () => device.createShaderModule({ label: what, code }));
  const info = await unlessLost(gpu, `compiling ${what}`, module.getCompilationInfo());
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const lines = errors.map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
    throw new GpuError(`compiling ${what} failed:\n${lines}`);
  }
  const entries: GPUBindGroupLayoutEntry[] = [];
  if (d.uniforms !== undefined) {
    entries.push({ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
  }
  access.forEach((a, i) =>
    entries.push({
      binding: i + 1,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: a === 'read' ? 'read-only-storage' : 'storage' },
    }),
  );
  const layout = await checked(gpu, `bind group layout for ${what}`, () =>
    device.createBindGroupLayout({ label: kernelName, entries }),
  );
  // createComputePipelineAsync aborts the whole process inside Dawn on
  // SwiftShader ("futex facility returned an unexpected error code") for any
  // shader of realistic size; the synchronous call inside error scopes is
  // safe, and pipelines are built once per plan anyway.
  const pipeline = await checked(gpu, `creating pipeline ${what}`, () =>
    device.createComputePipeline({
      label: `${kernelName} ${key}`,
      layout: device.createPipelineLayout({ label: kernelName, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: d.entryPoint, constants: { ...(d.constants ?? {}) } },
    }),
  );
  return { pipeline, layout };
}
