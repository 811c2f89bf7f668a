import { defineModel } from '../definition.ts';
import { attentiveChromeSpec } from '../modelSpec.ts';

export const attentivechromeDefinition = defineModel({
  name: 'attentivechrome',
  summary: 'AttentiveChrome BiLSTMs + attention over bins and marks (Singh et al. 2017)',
  input: 'window',
  phases: ['classifier'],
  costlyInExperiment: 'its LSTMs step through the bins one after another: about an hour a run on the E003 sample and two on E116 on a software adapter',
  settings: [],
  predictsExpression: true,
  classifierSpec: (sizes) => attentiveChromeSpec(sizes.bins, sizes.marks),
  // The public PyTorch code's (QData/AttentiveChrome): Adam at 1e-4, batch 10, gradients clipped at norm 1, up to
  // 90 epochs with the best kept by validation AUROC.
  trainingDefaults: { lr: 1e-4, batch: 10, epochs: 90, clip: 1 },
  // The layer names of src/models/attentiveChrome.ts.
  attentionMaps: { bins: 'binAttention', marks: 'markAttention' },
});
