import { activationFamily } from './activation.cases.ts';
import { type AdamBenchOp, adamFamily } from './adam.cases.ts';
import { addFamily } from './add.cases.ts';
import { attentionPoolFamily } from './attentionPool.cases.ts';
import { bceFamily } from './bce.cases.ts';
import { clipGradNormFamily } from './clipGradNorm.cases.ts';
import { type Conv1dBenchOp, conv1dFamily } from './conv1d.cases.ts';
import { counterFamily } from './counter.cases.ts';
import { dropoutFamily } from './dropout.cases.ts';
import { type ElboBenchOp, elboFamily } from './elbo.cases.ts';
import type { KernelFamily } from './family.ts';
import { gatherFamily } from './gather.cases.ts';
import { labelConcatFamily } from './labelConcat.cases.ts';
import { lstmFamily } from './lstm.cases.ts';
import { m2LossFamily } from './m2Loss.cases.ts';
import { type MatmulBenchOp, matmulFamily } from './matmul.cases.ts';
import { maxpool1dFamily } from './maxpool1d.cases.ts';
import { mseFamily } from './mse.cases.ts';
import { reduceFamily } from './reduce.cases.ts';
import { reparamFamily } from './reparam.cases.ts';
import { rngFamily } from './rng.cases.ts';
import { storeRowsFamily } from './storeRows.cases.ts';

// Every kernel family, once. `--self-check` runs each one's checks, the
// equivalence test runs them with outputs poisoned, bench/kernels.ts times
// each one's bench cases in this order. A factory module in src/kernels that
// is missing here fails test/kernelFamilies.test.ts.

/** Every operation a family offers the bench, as another engine must rebuild it. */
export type KernelBenchOp = MatmulBenchOp | Conv1dBenchOp | ElboBenchOp | AdamBenchOp;

export const KERNEL_FAMILIES: readonly KernelFamily<KernelBenchOp>[] = [
  activationFamily,
  matmulFamily,
  conv1dFamily,
  maxpool1dFamily,
  reduceFamily,
  bceFamily,
  mseFamily,
  gatherFamily,
  rngFamily,
  dropoutFamily,
  reparamFamily,
  elboFamily,
  clipGradNormFamily,
  adamFamily,
  addFamily,
  counterFamily,
  labelConcatFamily,
  m2LossFamily,
  storeRowsFamily,
  lstmFamily,
  attentionPoolFamily,
];
