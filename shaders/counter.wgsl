// step[0] += 1 on the GPU, so a plan recorded many times into one submit
// advances its step counter (Adam's t) once per repetition; ALSO_CURSOR bumps a
// second counter (the minibatch cursor) in the same dispatch. Twin: src/cpu/counter.ts.

@group(0) @binding(1) var<storage, read_write> step: array<u32>;
#if ALSO_CURSOR
@group(0) @binding(2) var<storage, read_write> cursor: array<u32>;
#endif

@compute @workgroup_size(1)
fn increment() {
  step[0] = step[0] + 1u;
#if ALSO_CURSOR
  cursor[0] = cursor[0] + 1u;
#endif
}
