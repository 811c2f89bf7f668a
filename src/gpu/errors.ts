import type { Gpu } from './device.ts';

// Dawn reports validation, out-of-memory and internal errors asynchronously
// and, unless asked, only prints them. Everything the engine does on the
// device goes through `checked`, which turns those reports into a thrown
// GpuError that says what was being done, and never waits on a lost device.

export class GpuError extends Error {
  override name = 'GpuError';
}

export class GpuDeviceLostError extends GpuError {
  override name = 'GpuDeviceLostError';
}

const FILTERS: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/** Awaits `p`, or throws as soon as the device is lost. */
export async function unlessLost<T>(gpu: Gpu, what: string, p: Promise<T>): Promise<T> {
  if (gpu.lostReason) throw new GpuDeviceLostError(`GPU device lost before ${what}: ${gpu.lostReason}`);
  const lost = gpu.lost.then((info): never => {
    throw new GpuDeviceLostError(`GPU device lost during ${what}: ${info.reason}: ${info.message}`);
  });
  return Promise.race([p, lost]);
}

/** Runs `fn` inside error scopes for every error kind and throws the first error, naming `what`. */
export async function checked<T>(gpu: Gpu, what: string, fn: () => T): Promise<T> {
  if (gpu.lostReason) throw new GpuDeviceLostError(`GPU device lost before ${what}: ${gpu.lostReason}`);
  const { device } = gpu;
  if (gpu.uncapturedErrors.length > 0) {
    const earlier = gpu.uncapturedErrors.splice(0).join('\n');
    throw new GpuError(`before ${what}, the device reported errors outside any scope:\n${earlier}`);
  }
  for (const f of FILTERS) device.pushErrorScope(f);
  let result: T;
  try {
    result = fn();
  } finally {
    // Scopes must be popped even when fn throws, or every later scope is off by one.
    const errors = await unlessLost(
      gpu,
      what,
      Promise.all(FILTERS.map(() => device.popErrorScope())),
    );
    const first = errors.reverse().find((e): e is GPUError => e !== null);
    if (first) throw new GpuError(`${what}: ${first.constructor.name}: ${first.message.trim()}`);
  }
  return result;
}
