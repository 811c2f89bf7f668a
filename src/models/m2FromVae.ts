import { elementCount, formatShape } from '../kernels/kernel.ts';
import type { ParameterStore } from '../nn/parameters.ts';
import { M2_CLASSES, type M2Model } from './vaeM2.ts';

// vae-m2 starts from SimpleChrome's pretrained VAE, the one vae-mlp and
// vae-joint use for the same cell and seed. Every M2 parameter below comes
// from the VAE parameter of the same name. The q(z|x,y) heads and the
// decoder's first layer read the one-hot label after their usual input, so
// their weights [in + 2, out] take the VAE's [in, out] as their first rows
// and start the two label rows at zero: the starting M2 is then exactly the
// pretrained VAE whichever label it is given, and training decides how much
// the label should matter. q(y|x)'s head (cls.*) has no counterpart in the
// VAE and keeps its fresh initial values.

/** Each M2 parameter taken from the VAE, and whether it gains the zeroed label rows. */
export const M2_FROM_VAE: readonly { readonly name: string; readonly labelRows: boolean }[] = [
  { name: 'enc.conv1.weight', labelRows: false },
  { name: 'enc.conv1.bias', labelRows: false },
  { name: 'enc.conv2.weight', labelRows: false },
  { name: 'enc.conv2.bias', labelRows: false },
  { name: 'enc.mu.weight', labelRows: true },
  { name: 'enc.mu.bias', labelRows: false },
  { name: 'enc.logvar.weight', labelRows: true },
  { name: 'enc.logvar.bias', labelRows: false },
  { name: 'dec.fc.weight', labelRows: true },
  { name: 'dec.fc.bias', labelRows: false },
  { name: 'dec.deconv1.weight', labelRows: false },
  { name: 'dec.deconv1.bias', labelRows: false },
  { name: 'dec.deconv2.weight', labelRows: false },
  { name: 'dec.deconv2.bias', labelRows: false },
  { name: 'dec.deconv3.weight', labelRows: false },
  { name: 'dec.deconv3.bias', labelRows: false },
];

/** The prefix of q(y|x)'s head, the only M2 parameters that start fresh. */
export const M2_FRESH_PREFIX = 'cls.';

/** Writes the pretrained VAE's parameters (`vaeParams`, a flat buffer in `vaeStore`'s layout) into `m2Initial`,
 * M2's flat initial values, as M2_FROM_VAE maps them; the head's values are left as they are. Any parameter of
 * either model that the map does not account for, or a shape that does not fit, is an error naming it. */
export function m2StartFromVae(m2: M2Model, vaeStore: ParameterStore, vaeParams: Float32Array, m2Initial: Float32Array): void {
  if (vaeParams.length !== vaeStore.total) throw new Error(`vae-m2: the pretrained VAE's buffer holds ${vaeParams.length} values, its layout ${vaeStore.total}`);
  if (m2Initial.length !== m2.store.total) throw new Error(`vae-m2: initial values of ${m2Initial.length}, the model's buffer is ${m2.store.total}`);
  const mapped = new Set(M2_FROM_VAE.map((e) => e.name));
  for (const p of vaeStore.parameters) {
    if (!mapped.has(p.name)) throw new Error(`vae-m2: the pretrained VAE's ${p.name} has no place in M2 (M2_FROM_VAE)`);
  }
  for (const p of m2.store.parameters) {
    if (!mapped.has(p.name) && !p.name.startsWith(M2_FRESH_PREFIX)) throw new Error(`vae-m2: M2's ${p.name} is neither taken from the VAE nor part of q(y|x)'s head`);
  }
  for (const { name, labelRows } of M2_FROM_VAE) {
    const to = m2.store.parameters.find((p) => p.name === name);
    const from = vaeStore.parameters.find((p) => p.name === name);
    if (!to || !from) throw new Error(`vae-m2: ${name} is missing from ${to ? 'the pretrained VAE' : 'M2'}`);
    const expected = labelRows ? [(from.shape[0] as number) + M2_CLASSES, ...from.shape.slice(1)] : [...from.shape];
    if (formatShape(expected) !== formatShape(to.shape)) {
      throw new Error(`vae-m2: ${name} is ${formatShape(to.shape)} in M2, and the pretrained VAE's ${formatShape(from.shape)} gives ${formatShape(expected)}`);
    }
    const values = vaeParams.subarray(from.offset, from.offset + from.size);
    m2Initial.set(values, to.offset);
    // Row-major [in, out]: the label's rows are the last ones.
    if (labelRows) m2Initial.fill(0, to.offset + from.size, to.offset + elementCount(to.shape));
  }
}
