import { basename, join } from 'node:path';
import {
  CheckpointWriter,
  type ClassifierCheckpoint,
  FILES,
  type Role,
  type RunInfo,
  type VaeCheckpoint,
  classifierCheckpointFrom,
  vaeCheckpointFrom,
} from './checkpointFormat.ts';
import { type NamedTensor, readSafetensors, writeSafetensors } from './safetensors.ts';

// The checkpoint files of one run directory (the format: checkpointFormat.ts).

export * from './checkpointFormat.ts';

/** Writes the checkpoint files of one run directory as training goes. */
export class RunCheckpoints extends CheckpointWriter {
  /** The newest checkpoint this run can continue from, for messages when it stops. */
  latest: { readonly file: string; readonly phase: 'VAE' | 'classifier'; readonly epoch: number } | undefined;

  /** Called after every checkpoint written (the run directory swaps a staged directory in at the first). */
  onSaved: (() => void) | undefined;

  constructor(
    private directory: string,
    info: RunInfo,
  ) {
    super(info);
  }

  get dir(): string {
    return this.directory;
  }

  /** The run's directory was renamed (a staged directory swapped in): later files go to `dir`. */
  relocate(dir: string): void {
    this.directory = dir;
    if (this.latest) this.latest = { ...this.latest, file: join(dir, basename(this.latest.file)) };
  }

  path(role: Role): string {
    return join(this.directory, FILES[role]);
  }

  protected put(role: Role, tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Promise<void> {
    return writeSafetensors(this.path(role), tensors, metadata);
  }

  protected saved(role: 'vae' | 'last', phase: 'VAE' | 'classifier', epoch: number): void {
    this.latest = { file: this.path(role), phase, epoch };
    this.onSaved?.();
  }
}

export async function readClassifierCheckpoint(path: string, role: 'best' | 'last'): Promise<ClassifierCheckpoint> {
  return classifierCheckpointFrom(await readSafetensors(path), path, role);
}

export async function readVaeCheckpoint(path: string): Promise<VaeCheckpoint> {
  return vaeCheckpointFrom(await readSafetensors(path), path);
}
