import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { GpuUnavailableError, openDevice, type Gpu } from './openDevice.ts';

export { GpuUnavailableError, type Gpu } from './openDevice.ts';

// Getting a WebGPU device in Node: Dawn through the `webgpu` package; when the
// machine has no hardware Vulkan/Metal/D3D12 adapter we fall back to
// SwiftShader, the software Vulkan driver that Debian ships in chromium-common,
// and say so. (A page gets its device from navigator.gpu: browserGpu.ts.)

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface GpuOptions {
  /** 'software' forces SwiftShader even when hardware exists (tests that must match CI). */
  readonly adapter?: 'auto' | 'software';
  readonly log?: (line: string) => void;
}

const INSTALL_HINT =
  'Install a Vulkan driver for your GPU, or the software one: ' +
  '`sudo apt-get install -y libvulkan1 chromium-common` (Debian/Ubuntu; provides ' +
  SWIFTSHADER_ICD +
  '). Run with --cpu to use the CPU reference path instead.';

/** Where the Vulkan loader looks for drivers on Linux (its documented search path). */
function vulkanIcdDirs(): string[] {
  const config = (process.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const data = (process.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  return [
    ...config.map((d) => `${d}/vulkan/icd.d`),
    '/etc/vulkan/icd.d',
    ...data.map((d) => `${d}/vulkan/icd.d`),
    `${homedir()}/.local/share/vulkan/icd.d`,
  ];
}

/** NVIDIA container runtimes mount the driver's ICD here without registering it. */
const NVIDIA_CONTAINER_ICD = '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json';

/** On Linux, asking Dawn for a hardware adapter when no Vulkan driver is
 * registered only prints loader warnings; skip straight to the fallback. */
function mayHaveHardwareAdapter(): boolean {
  if (process.platform !== 'linux') return true;
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return true;
  if (existsSync(NVIDIA_CONTAINER_ICD)) {
    process.env.VK_DRIVER_FILES = NVIDIA_CONTAINER_ICD;
    return true;
  }
  return vulkanIcdDirs().some((dir) => {
    try {
      return readdirSync(dir).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

type GpuFactory = { requestAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter | null> };
const liveInstances: GpuFactory[] = [];

async function dawnGpu(): Promise<GpuFactory> {
  let mod: typeof import('webgpu');
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new GpuUnavailableError(
      `could not load Dawn's Node bindings (npm package "webgpu"): ${(e as Error).message}. Run \`npm ci\` first.`,
    );
  }
  Object.assign(globalThis, mod.globals);
  const instance = mod.create([]) as GpuFactory;
  // Dawn's devices do not keep their instance alive from JavaScript: once the
  // GC collects it, the device's mutexes are freed under it and the process
  // aborts ("futex facility returned an unexpected error code"). Keep every
  // instance for the life of the process.
  liveInstances.push(instance);
  return instance;
}

async function findAdapter(opts: GpuOptions): Promise<{ adapter: GPUAdapter; fellBack: boolean }> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const forced = opts.adapter === 'software';
  if (!forced && mayHaveHardwareAdapter()) {
    const adapter = await (await dawnGpu()).requestAdapter({ powerPreference: 'high-performance' });
    if (adapter) return { adapter, fellBack: false };
  }
  if (!existsSync(SWIFTSHADER_ICD)) {
    throw new GpuUnavailableError(
      forced ? `software adapter requested but ${SWIFTSHADER_ICD} is missing. ${INSTALL_HINT}` : `no GPU adapter found. ${INSTALL_HINT}`,
    );
  }
  // The Vulkan loader reads this when Dawn creates its instance, so a fresh
  // instance after setting it sees SwiftShader.
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  if (!forced) log(`simplechrome: no hardware GPU adapter found; using SwiftShader (software Vulkan, slow) from ${SWIFTSHADER_ICD}`);
  const adapter = await (await dawnGpu()).requestAdapter();
  if (!adapter) throw new GpuUnavailableError(`SwiftShader at ${SWIFTSHADER_ICD} gave no adapter (is libvulkan1 installed?). ${INSTALL_HINT}`);
  return { adapter, fellBack: true };
}

export async function acquireGpu(opts: GpuOptions = {}): Promise<Gpu> {
  const { adapter, fellBack } = await findAdapter(opts);
  return openDevice(adapter, fellBack);
}
