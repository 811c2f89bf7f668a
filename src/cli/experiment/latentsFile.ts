import { readSafetensors, writeSafetensors } from '../../checkpoint/safetensors.ts';
import { refuseNonFinite } from '../../checkpoint/checkpointFormat.ts';
import type { VaeLatents } from '../../train/runModel.ts';

// A trained VAE as the runs that share it need it: every gene's latent means,
// the VAE's weights (vae-joint starts from them) and its loss curve. The grid's
// VAE entries and the experiment's stored VAEs both write this file, so a run
// reads the same bytes whichever trained its VAE.

export const LATENTS_FILE = 'latents.safetensors';
const FORMAT = 'simplechrome-latents-1';

/** `identity`: what the VAE was trained on and with; a reader that expects another identity refuses the file. */
export async function writeLatentsFile(path: string, cell: string, latentWidth: number, vae: VaeLatents, identity?: string): Promise<void> {
  const tensors = [
    { name: 'latent_mean', shape: [vae.latents.length / latentWidth, latentWidth], data: vae.latents },
    { name: 'vae_params', shape: [vae.params.length], data: vae.params },
  ];
  await writeSafetensors(path, tensors, {
    format: FORMAT,
    cell,
    history: JSON.stringify(vae.history),
    parameters: String(vae.parameters),
    ...(identity !== undefined ? { identity } : {}),
  });
}

/** The latents a finished VAE wrote, bit for bit what its training encoded; with `identity`, refused unless it matches. */
export async function readLatentsFile(path: string, identity?: string): Promise<VaeLatents> {
  const f = await readSafetensors(path);
  if (f.metadata.format !== FORMAT) throw new Error(`${path}: not a latents file (format ${JSON.stringify(f.metadata.format)}, expected ${FORMAT})`);
  if (identity !== undefined && f.metadata.identity !== identity) {
    throw new Error(`${path}: holds a VAE trained with other settings or data (${f.metadata.identity ?? 'none recorded'}); this run needs ${identity}. Move the file away to train it again`);
  }
  const t = f.tensors.get('latent_mean');
  const p = f.tensors.get('vae_params');
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`${path}: holds no float32 latent_mean`);
  if (!p || !(p.data instanceof Float32Array)) throw new Error(`${path}: holds no float32 vae_params`);
  refuseNonFinite(t.data, path, 'latent_mean');
  refuseNonFinite(p.data, path, 'vae_params');
  return { latents: t.data, history: JSON.parse(f.metadata.history ?? '[]') as VaeLatents['history'], parameters: Number(f.metadata.parameters), params: p.data };
}

