// Train, predict and encode from a script, with the engine the command line runs (docs/USING.md §8).
//   npx tsx examples/train-and-predict.ts [--vae] [CELL]   (in a checkout; CELL defaults to the E003 sample)
// --vae also trains a vae-mlp and encodes every gene: its VAE takes minutes on the CPU reference path.
// An installed package runs it the same way: `import ... from 'simplechrome'` is the package's entry.
import { fileURLToPath } from 'node:url';
import { type ClassScores, type Scores, encode, loadCell, predict, train } from 'simplechrome';

const sample = fileURLToPath(new URL('../../shared/datasets/derived_deepchrome_format/E003_sample600', import.meta.url));
const args = process.argv.slice(2);
const withVae = args.includes('--vae');
const cell = await loadCell(args.find((a) => a !== '--vae') ?? sample);
const { dataset } = cell;
console.log(`cell ${dataset.cell}: ${dataset.genes} genes × ${dataset.bins} bins × ${dataset.marks.length} marks (${cell.layout} layout)`);

const auroc = (s: Scores): number => (s as ClassScores).auroc;

// 100 labeled training genes, 2 epochs, on the CPU reference path: bit for bit what
// `simplechrome train --cpu --model mlp --train-size 100 --epochs 2` gives.
const mlp = await train(cell, { model: 'mlp', trainSize: 100, epochs: 2, device: 'cpu' });
console.log(`mlp: best epoch ${mlp.bestEpoch}, valid AUROC ${auroc(mlp.valid)}, test AUROC ${auroc(mlp.test)}`);

// Every gene of the cell (another cell of the same marks and bins works the same way).
const predicted = await predict(mlp, cell, { device: 'cpu' });
const test = predicted.scores?.find((s) => s.split === 'test');
console.log(`predict: ${predicted.values.length} genes, first ${predicted.geneIds[0]} P(high) ${predicted.values[0]?.toFixed(4)}; test AUROC ${test?.scores ? auroc(test.scores) : 'n/a'}`);

// A VAE-based model, and its latent means of every gene.
if (withVae) {
  const vaeMlp = await train(cell, { model: 'vae-mlp', trainSize: 100, epochs: 2, vaeEpochs: 2, device: 'cpu' });
  const latents = await encode(vaeMlp, cell, { device: 'cpu' });
  console.log(`vae-mlp: test AUROC ${auroc(vaeMlp.test)}; encode: ${latents.geneIds.length} genes × ${latents.latent} latent means`);
}
