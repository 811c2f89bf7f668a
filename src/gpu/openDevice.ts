// The device every plan runs on, opened the same way whichever adapter it
// came from (Dawn in Node: device.ts; navigator.gpu in a page: browserGpu.ts).

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  /** Human-readable adapter name, e.g. "NVIDIA H200 (vulkan)" or "SwiftShader Device (vulkan, software)". */
  readonly adapterName: string;
  readonly isSoftware: boolean;
  readonly hasTimestamps: boolean;
  /** Resolves when the device is lost (or destroyed); `lostReason` is set from then on. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  lostReason: string | undefined;
  /** Errors raised outside any error scope; `checked` throws on the next call when this is non-empty. */
  readonly uncapturedErrors: string[];
  destroy(): void;
}

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

function describe(adapter: GPUAdapter, software: boolean): string {
  const info = adapter.info;
  const name = info.description || info.device || info.architecture || info.vendor || 'unknown adapter';
  const backend = software ? 'software' : info.vendor || 'hardware';
  return `${name} (${backend})`;
}

function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return text.includes('swiftshader') || text.includes('llvmpipe') || text.includes('lavapipe') ||
    (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
}

/** Raises every limit the kernels can use to what the adapter offers. */
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const a = adapter.limits;
  return {
    maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
    maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
    maxBufferSize: a.maxBufferSize,
    maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: a.maxComputeWorkgroupSizeY,
  };
}

/** A device on `adapter` with the limits the kernels use; `fellBack`: chosen as the software fallback. */
export async function openDevice(adapter: GPUAdapter, fellBack: boolean): Promise<Gpu> {
  const hasTimestamps = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({
    label: 'simplechrome',
    requiredLimits: requiredLimits(adapter),
    requiredFeatures: hasTimestamps ? ['timestamp-query'] : [],
  });
  const software = fellBack || isSoftwareAdapter(adapter);
  const gpu: Gpu = {
    device,
    adapter,
    adapterName: describe(adapter, software),
    isSoftware: software,
    hasTimestamps,
    lost: device.lost,
    lostReason: undefined,
    uncapturedErrors: [],
    destroy: () => device.destroy(),
  };
  // Everything the engine does runs inside error scopes; this catches what
  // slips past them (e.g. a caller using the device directly) so it still fails loudly.
  device.addEventListener('uncapturederror', (ev) => {
    gpu.uncapturedErrors.push((ev as GPUUncapturedErrorEvent).error.message);
  });
  void device.lost.then((info) => {
    gpu.lostReason = `${info.reason}: ${info.message}`;
  });
  return gpu;
}
