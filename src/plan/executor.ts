import type { HostArray } from '../kernels/kernel.ts';
import type { Plan } from './plan.ts';

/** What training needs of an executor; CpuExecutor and GpuExecutor both fit. */
export interface Executor {
  readonly plan: Plan;
  write(name: string, data: ArrayLike<number>): void;
  read(name: string): HostArray | Promise<HostArray>;
  run(repeat?: number, segment?: string): void | Promise<void>;
}
