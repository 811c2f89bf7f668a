// DeepChrome's published test AUROC for each of the 56 Roadmap cells it was
// evaluated on: Singh, Lanchantin, Robins & Qi, "DeepChrome: deep-learning for
// predicting gene expression from histone modifications", Bioinformatics 32(17)
// i639-i645, 2016 (per-cell results, two decimals; mean 0.80). The same numbers
// are tabulated in the ShallowChrome repository (DEIB-GECO/ShallowChrome). The
// experiment prints them beside ours, cell by cell.

export const DEEPCHROME_PUBLISHED_AUROC: Readonly<Record<string, number>> = {
  E003: 0.77, E004: 0.81, E005: 0.80, E006: 0.82, E007: 0.77, E011: 0.76, E012: 0.80, E013: 0.79,
  E016: 0.79, E024: 0.77, E027: 0.80, E028: 0.81, E037: 0.81, E038: 0.83, E047: 0.83, E050: 0.80,
  E053: 0.80, E054: 0.80, E055: 0.83, E056: 0.89, E057: 0.90, E058: 0.84, E059: 0.90, E061: 0.84,
  E062: 0.80, E065: 0.76, E066: 0.80, E070: 0.76, E071: 0.73, E079: 0.74, E082: 0.78, E084: 0.71,
  E085: 0.72, E087: 0.74, E094: 0.73, E095: 0.82, E096: 0.72, E097: 0.76, E098: 0.74, E100: 0.90,
  E104: 0.79, E105: 0.78, E106: 0.76, E109: 0.74, E112: 0.69, E113: 0.73, E114: 0.83, E116: 0.91,
  E117: 0.92, E118: 0.85, E119: 0.83, E120: 0.84, E122: 0.83, E123: 0.92, E127: 0.83, E128: 0.83,
};
