// The quick validation check behind vae-joint's default --joint-weight: one
// pretrained VAE per seed (shared, as the experiment shares it), then vae-joint
// at each λ, scored by validation AUROC only (test genes are not looked at).
//   npx tsx bench/jointWeight.ts DATA SIZE SEED VAE_EPOCHS λ1,λ2,...
import { parseArgs } from '../src/cli/args.ts';
import { type VaeLatents, runModel } from '../src/cli/runModel.ts';
import { loadData, progressPrinter, settingsOf } from '../src/cli/session.ts';

const [data, size, seed, vaeEpochs, weights] = process.argv.slice(2);
if (!data || !size || !seed || !vaeEpochs || !weights) throw new Error('usage: bench/jointWeight.ts DATA SIZE SEED VAE_EPOCHS λ1,λ2,...');
const o = parseArgs(['--cpu', '--data', data, '--vae-epochs', vaeEpochs, '--quiet']);
const { dataset } = await loadData(o);
const cache = new Map<string, Promise<VaeLatents>>();
for (const w of weights.split(',').map(Number)) {
  const s = { ...settingsOf(o), model: 'vae-joint' as const, trainSize: Number(size), seed: Number(seed), jointWeight: w };
  const run = await runModel(dataset, s, { kind: 'cpu' }, progressPrinter(true), (key, make) => {
    let p = cache.get(key);
    if (!p) cache.set(key, (p = make()));
    return p;
  });
  const h = run.result.history.map((r) => r.valid.auroc.toFixed(4)).join(' ');
  process.stdout.write(`λ=${w} size=${size} seed=${seed}: best valid AUROC ${run.result.valid.auroc.toFixed(4)} at epoch ${run.result.bestEpoch}; per epoch ${h}\n`);
}
