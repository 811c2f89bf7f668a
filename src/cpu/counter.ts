// CPU twin of shaders/counter.wgsl. Uint32Array wraps at 2^32 like the GPU's u32.

export function counterIncrement(step: Uint32Array): void {
  step[0] = (step[0] as number) + 1;
}
