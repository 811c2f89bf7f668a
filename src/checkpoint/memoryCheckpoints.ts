import type { Sha256 } from '../util/sha256.ts';
import { CheckpointWriter, FILES, type Role, type RunInfo } from './checkpointFormat.ts';
import { type NamedTensor, encodeSafetensorsWith } from './safetensorsCodec.ts';

// A run's checkpoint files kept in memory as the bytes a run directory would
// hold (the page offers them as downloads; `predict` reads them as it reads its own).

export class MemoryCheckpoints extends CheckpointWriter {
  private readonly bytes = new Map<Role, Uint8Array>();

  constructor(
    info: RunInfo,
    private readonly hash: () => Sha256,
  ) {
    super(info);
  }

  /** The latest bytes of one file (best.safetensors, …), or undefined before it is first saved. */
  file(role: Role): { readonly name: string; readonly bytes: Uint8Array } | undefined {
    const bytes = this.bytes.get(role);
    return bytes === undefined ? undefined : { name: FILES[role], bytes };
  }

  protected async put(role: Role, tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Promise<void> {
    this.bytes.set(role, encodeSafetensorsWith(this.hash, tensors, metadata));
  }

  protected saved(): void {
    // Nothing to continue from in memory: a page's run is not resumed.
  }
}
