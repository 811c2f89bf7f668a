import { GpuUnavailableError, openDevice, type Gpu } from './openDevice.ts';

// A page's device: navigator.gpu. Browsers without WebGPU, or with it turned
// off, get an error that says how to turn it on.

export const ENABLE_WEBGPU_HINT =
  'Use a browser with WebGPU: Chrome or Edge 113+ (on Linux start it with --enable-unsafe-webgpu, ' +
  'or turn on chrome://flags/#enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on Windows ' +
  '(elsewhere set dom.webgpu.enabled in about:config). The page must be served over https or from localhost.';

export async function acquireBrowserGpu(): Promise<Gpu> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (gpu === undefined) throw new GpuUnavailableError(`this browser has no WebGPU (navigator.gpu is missing). ${ENABLE_WEBGPU_HINT}`);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) throw new GpuUnavailableError(`navigator.gpu gave no adapter: WebGPU is turned off or no GPU is usable. ${ENABLE_WEBGPU_HINT}`);
  return openDevice(adapter, false);
}
