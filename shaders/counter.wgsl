// step[0] += 1 on the GPU, so a plan recorded many times into one submit
// advances its step counter (Adam's t) once per repetition. Twin: src/cpu/counter.ts.

@group(0) @binding(1) var<storage, read_write> step: array<u32>;

@compute @workgroup_size(1)
fn increment() {
  step[0] = step[0] + 1u;
}
