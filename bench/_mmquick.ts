import { acquireGpu } from '../src/gpu/device.ts';
import { GEMM_VARIANTS, forcedTarget } from '../src/kernels/gemm.ts';
import { matmulKernel } from '../src/kernels/matmul.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { singleKernelPlan, maxRelError } from '../src/plan/singleKernel.ts';
import { uniformArray } from '../src/util/random.ts';
const gpu = await acquireGpu({ log: () => {} });
const n = Number(process.argv[2] ?? 512);
const variants = process.argv[3] ? process.argv[3].split(',') : GEMM_VARIANTS;
for (const [M, N, K, tA, tB] of [[n, n, n, false, false], [37, 129, 67, true, false], [129, 37, 1, false, true], [1, 5, 3000, true, true]] as const) {
  const k = matmulKernel({ M, N, K, transA: tA, transB: tB });
  const plan = singleKernelPlan(k);
  const a = uniformArray(M * K, 1), b = uniformArray(K * N, 2);
  let ref: Float32Array | undefined;
  if (M * N * K <= 1e6) { const c = new CpuExecutor(plan); c.write('a', a); c.write('b', b); c.run(); ref = c.read('c') as Float32Array; }
  for (const v of variants) {
    const ex = await GpuExecutor.create(gpu, plan, forcedTarget(v as never));
    ex.write('a', a); ex.write('b', b); ex.write('c', new Float32Array(M * N).fill(NaN));
    await ex.run(); await ex.finish();
    const t = await ex.timedRun(1);
    const out = await ex.read('c') as Float32Array;
    const err = ref ? maxRelError(out, ref) : NaN;
    console.log(`${M}x${N}x${K} ${tA ? 'At' : ''}${tB ? 'Bt' : ''} ${v}: ${t.gpuMs?.toFixed(1)} ms, ${(2 * M * N * K / (t.gpuMs ?? t.wallMs) / 1e6).toFixed(2)} GFLOP/s err ${err.toExponential(1)}`);
    ex.destroy();
  }
}
