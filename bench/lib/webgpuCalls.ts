// Counts the WebGPU calls a library makes, for the figures our executor
// keeps in `stats` (dispatches, submits, host reads, bytes uploaded) but for
// code we do not own (TF.js). It wraps the prototypes of Dawn's classes once;
// the wrappers count only inside `counted(...)`, and only the engine under
// measurement may run there.

export interface CallCounts {
  dispatches: number;
  submits: number;
  /** Buffers mapped for reading (mapAsync with MAP_READ). */
  hostReads: number;
  /** writeBuffer bytes plus buffers created mapped (how TF.js uploads). */
  bytesUploaded: number;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;
type Proto = Record<string, unknown>;

let active: CallCounts | undefined;
let installed = false;

function wrap(cls: string, method: string, count: (c: CallCounts, args: unknown[]) => void): void {
  const ctor = (globalThis as unknown as Record<string, { prototype: Proto } | undefined>)[cls];
  if (!ctor) throw new Error(`webgpuCalls: ${cls} is not a global (import the webgpu package's globals first)`);
  const original = ctor.prototype[method] as Method | undefined;
  if (typeof original !== 'function') throw new Error(`webgpuCalls: ${cls}.prototype.${method} is not a function`);
  ctor.prototype[method] = function (this: unknown, ...args: unknown[]): unknown {
    if (active) count(active, args);
    return original.apply(this, args);
  };
}

function byteLength(data: unknown, size: unknown): number {
  if (typeof size === 'number') return size;
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return data.byteLength;
  return 0;
}

/** Wraps the counted methods; idempotent. Needs the webgpu globals on globalThis. */
export function installCallCounters(): void {
  if (installed) return;
  wrap('GPUComputePassEncoder', 'dispatchWorkgroups', (c) => c.dispatches++);
  wrap('GPUQueue', 'submit', (c) => c.submits++);
  wrap('GPUQueue', 'writeBuffer', (c, [, , data, , size]) => {
    c.bytesUploaded += byteLength(data, size);
  });
  wrap('GPUBuffer', 'mapAsync', (c, [mode]) => {
    if (typeof mode === 'number' && (mode & 1) !== 0) c.hostReads++;
  });
  wrap('GPUDevice', 'createBuffer', (c, [descriptor]) => {
    const d = descriptor as { mappedAtCreation?: boolean; size?: number; usage?: number } | undefined;
    // MAP_READ buffers created mapped are not uploads.
    if (d?.mappedAtCreation && typeof d.size === 'number' && ((d.usage ?? 0) & 1) === 0) c.bytesUploaded += d.size;
  });
  installed = true;
}

/** Runs `fn` and returns what it called; windows do not nest. */
export async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; counts: CallCounts }> {
  if (!installed) throw new Error('webgpuCalls: installCallCounters() first');
  if (active) throw new Error('webgpuCalls: counting windows do not nest');
  const counts: CallCounts = { dispatches: 0, submits: 0, hostReads: 0, bytesUploaded: 0 };
  active = counts;
  try {
    return { result: await fn(), counts };
  } finally {
    active = undefined;
  }
}
