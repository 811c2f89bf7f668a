import { acquireGpu, GpuUnavailableError } from '../gpu/device.ts';
import { GpuError } from '../gpu/errors.ts';
import { selfCheck } from '../selfCheck.ts';
import { selfCheckCases } from '../selfCheckCases.ts';

const HELP = `simplechrome: train SimpleChrome's models of gene expression on the GPU (WebGPU)

usage: tsx run.ts [--gpu | --cpu] [--self-check] [--help]

  --gpu          run on the GPU (default): a hardware adapter when one exists,
                 else SwiftShader (software Vulkan) with a note on stderr
  --cpu          run the CPU reference path
  --self-check   compare every kernel family on the GPU against its CPU twin
                 and exit (the default until training lands)
  --help         this text
`;

class UsageError extends Error {}

interface Options {
  readonly device: 'gpu' | 'cpu';
  readonly help: boolean;
}

function parse(argv: readonly string[]): Options {
  let device: 'gpu' | 'cpu' = 'gpu';
  let help = false;
  for (const arg of argv) {
    if (arg === '--gpu') device = 'gpu';
    else if (arg === '--cpu') device = 'cpu';
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--self-check') continue;
    else throw new UsageError(`unknown argument "${arg}" (see --help)`);
  }
  return { device, help };
}

/** Returns the exit code; never lets a stack trace reach the user for expected failures. */
export async function main(argv: readonly string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parse(argv);
  } catch (e) {
    process.stderr.write(`simplechrome: ${(e as Error).message}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.device === 'cpu') {
    process.stdout.write('device: CPU reference path (nothing to compare against; use --gpu for the self-check)\n');
    return 0;
  }
  try {
    const gpu = await acquireGpu();
    process.stdout.write(`adapter: ${gpu.adapterName}\n`);
    process.stdout.write('self-check: each kernel family on the GPU against its CPU twin (outputs poisoned with NaN)\n');
    const results = await selfCheck(gpu, selfCheckCases());
    const width = Math.max(...results.map((r) => r.kernel.length));
    for (const r of results) {
      process.stdout.write(`  ${r.kernel.padEnd(width)}  max rel error ${r.error.toExponential(2)}  ${r.ok ? 'ok' : 'FAILED'}\n`);
    }
    const failed = results.filter((r) => !r.ok).length;
    process.stdout.write(failed === 0 ? `all ${results.length} kernels agree with the CPU reference\n` : `${failed} kernels disagree\n`);
    gpu.destroy();
    return failed === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof GpuUnavailableError || e instanceof GpuError) {
      process.stderr.write(`simplechrome: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
