import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import type { Gpu } from '../../src/gpu/device.ts';

// TensorFlow.js's WebGPU backend in Node, on Dawn, on the adapter our engine
// uses. The backend looks for `navigator.gpu` (Node 20 has no navigator, 21+
// has one without gpu), so we hand it a Dawn instance of the `webgpu` package.
// It must be started after acquireGpu(): by then the Vulkan loader has been
// pointed at the same driver (VK_ICD_FILENAMES / VK_DRIVER_FILES) that our
// device came from, and a new Dawn instance sees the same adapters.

export type Tf = typeof TfCore;
export type TfLayersModule = typeof TfLayers;

/** The public surface of tfjs-backend-webgpu's WebGPUBackend that the benches use. */
interface WebGpuBackendLike {
  readonly device: GPUDevice;
  readonly queue: GPUQueue;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

export interface TfjsWebgpu {
  readonly tf: Tf;
  readonly layers: TfLayersModule;
  /** The adapter TF.js got, described like ours. */
  readonly adapterName: string;
  readonly version: string;
  /** Whether TF.js's device has timestamp queries (then tf.time's kernelMs is GPU time). */
  readonly hasTimestamps: boolean;
  /** Submits what TF.js has recorded and waits until the GPU is idle. */
  sync(): Promise<void>;
}

/** Dawn aborts the process if an instance is collected while its device lives. */
const liveInstances: unknown[] = [];

function describeAdapter(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  return info.description || info.device || info.architecture || info.vendor || 'unknown adapter';
}

function installNavigatorGpu(gpu: unknown): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: `node ${process.version}` }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  }
}

/**
 * Starts TF.js on its WebGPU backend, or returns the reason it could not (the
 * error text). `ours` must be acquired already (see above). Dawn quantizes
 * timestamps to 65.536 µs by default; TF.js times every kernel in its own
 * pass, so its instance is created with that quantization off (ours times
 * whole passes of many repeats and is not affected).
 */
export async function startTfjsWebgpu(ours: Gpu): Promise<TfjsWebgpu | { readonly error: string }> {
  try {
    const webgpu = await import('webgpu');
    Object.assign(globalThis, webgpu.globals);
    const instance = webgpu.create(['disable-dawn-features=timestamp_quantization']);
    liveInstances.push(instance);
    installNavigatorGpu(instance);
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    const layers = await import('@tensorflow/tfjs-layers');
    const ok = await tf.setBackend('webgpu');
    if (!ok || tf.getBackend() !== 'webgpu') throw new Error(`tf.setBackend('webgpu') returned ${ok}; backend is ${tf.getBackend()}`);
    await tf.ready();
    const backend = tf.backend() as unknown as WebGpuBackendLike;
    const device = backend.device as GPUDevice & { adapterInfo?: GPUAdapterInfo };
    const adapterName = device.adapterInfo ? describeAdapter(device.adapterInfo) : 'unknown adapter';
    const oursName = ours.adapterName.replace(/ \([^)]*\)$/, '');
    if (adapterName !== 'unknown adapter' && adapterName !== oursName) {
      throw new Error(`TF.js got adapter "${adapterName}", our engine runs on "${oursName}": not the same adapter, no comparison`);
    }
    return {
      tf,
      layers,
      adapterName,
      version: tf.version_core,
      hasTimestamps: device.features.has('timestamp-query'),
      sync: async () => {
        backend.ensureCommandEncoderReady();
        backend.endComputePassEncoder();
        backend.submitQueue();
        await backend.queue.onSubmittedWorkDone();
      },
    };
  } catch (e) {
    return { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}
