import { buildVaePlan } from '../src/train/vaePlan.ts';
import { vaeModel } from '../src/models/vae.ts';
import { HEURISTIC_TARGET } from '../src/kernels/gemm.ts';
const model = vaeModel({ bins: 100, marks: 5 });
const { plan } = buildVaePlan(model, { genes: 200, batch: 64, encodeBatch: 64, trainOrderLength: 256, beta: 1, sigma: 'logvar', optimizer: { lr: 1e-3 }, seed: 1 });
const { start, end } = plan.range('train');
let n = 0;
for (const c of plan.calls.slice(start, end)) { const d = c.kernel.gpu(HEURISTIC_TARGET); n += d.length; console.log(d.length, c.kernel.name, d.map((x) => x.entryPoint + (x.defines?.ROWS8 ? '8' : '4') + 'x' + (x.defines?.COLS8 ? '8' : '4')).join(' ')); }
console.log('total', n);
