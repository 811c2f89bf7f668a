import { LOGREG_L2_GRID } from '../../models/logreg.ts';
import { COSTLY_IN_EXPERIMENT, DEFAULT_EXPERIMENT_MODELS, MODEL_NAMES, MODEL_REGISTRY, type ModelName, derivedFeatures, isLinear, isSemiSupervisedVae, readsLatents, trainingDefaults, usesVae } from '../../models/registry.ts';
import { RUN_FLAGS, type RunKey } from '../../train/runFlags.ts';
import { isCheckout } from '../../util/packageRoot.ts';
import { SPLITS } from '../../data/dataset.ts';
import { COMMAND } from './commandName.ts';

/** A model's own training defaults as flags ("--lr 0.0001, --batch 10"), or '' when it takes the command line's. */
const ownDefaults = (m: ModelName): string =>
  Object.entries(trainingDefaults(m)).map(([k, v]) => `${RUN_FLAGS[k as RunKey].flag} ${String(v)}`).join(', ');
const MODEL_LINES = MODEL_NAMES.map((m) => {
  const own = ownDefaults(m);
  return `                          ${m.padEnd(18)} ${MODEL_REGISTRY[m].summary}${own === '' ? '' : `\n${' '.repeat(45)}(train's defaults for it: ${own})`}`;
}).join('\n');

export const HELP = `simplechrome: predict gene expression (high/low) from histone marks, on the GPU (WebGPU)

usage: ${COMMAND} train [options]                 train one model (checkpoints, metrics, plots in --out)
       ${COMMAND} train --resume DIR [--gpu|--cpu] [--epochs N]   continue a stopped run
       ${COMMAND} experiment [options]            SimpleChrome's small-data comparison (below)
       ${COMMAND} experiment [options] --plan FILE    the experiment's grid as a plan, for a cluster
       ${COMMAND} experiment --resume DIR         continue a stopped experiment
       ${COMMAND} predict --model DIR --data PATH [--out FILE [--attention]] [--gpu|--cpu]
       ${COMMAND} encode --model DIR --data PATH --out FILE.csv|FILE.safetensors [--gpu|--cpu]
       ${COMMAND} explain --model DIR --data PATH [--genes ID,…|--split S] [--method M] [--steps N] [--out DIR]
       ${COMMAND} build-dataset --tracks DIR|FILES --genes FILE --expression FILE --out DIR [options]
       ${COMMAND} slurm --plan FILE [--submit] [sbatch options]   job arrays of the plan (docs/CLUSTER.md)
       ${COMMAND} job --plan FILE [--index N]                     one entry of the plan
       ${COMMAND} collect --plan FILE                             the plan's finished entries → the tables
       ${COMMAND} self-check
       ${COMMAND} help
       ${COMMAND} --version
  The first forms stay as aliases: no subcommand means train, --experiment small-data means
  experiment, --resume DIR alone continues whichever DIR holds, --self-check and --help.${
    isCheckout()
      ? `
  In a checkout, npx simplechrome runs the same as npx ${COMMAND}; installed with npm (README.md,
  "Install it as a command"), the command is simplechrome wherever this says ${COMMAND}.`
      : ''
  }

device
  --gpu                 train on the GPU (default): a hardware adapter when one exists,
                        else SwiftShader (software Vulkan, slow) with a note on stderr
  --cpu                 train with the CPU reference path (same plan, same results)
  self-check            compare every kernel family on the GPU against its CPU twin (alias --self-check)

data
  --data PATH           a cell: a DeepChrome directory (<cell>/classification/{train,valid,test}.csv[.gz]
                        or the three files), a file prefix such as .../E003_sample600, AttentiveChrome
                        files (<prefix>.{train,valid,test}.csv[.gz] + <prefix>.expr.csv[.gz]) or a
                        GC-MERGE directory, or bigWig sources: a directory of five mark tracks (*.bw) with
                        a gene table and an expression table, or the bigwig-sources.json that
                        build-dataset writes (docs/BIGWIG.md). Default: the real E003 sample in
                        ../shared/datasets when present, else a SYNTHETIC demo set (see datasets/README.md)
  --normalize SCHEME    raw | log1p | max | log1p-max | zscore | log1p-zscore  (default log1p-max;
                        statistics from the training genes only)

model and training
  --model NAME          ${MODEL_NAMES.join(' | ')}  (default deepchrome)
${MODEL_LINES}
                        the linear models (${MODEL_NAMES.filter(isLinear).join(', ')}) are fit to convergence
                        (full-batch L-BFGS; --epochs, --batch and --lr do not apply) at each L2 penalty (on the
                        weights, not the bias) from ${LOGREG_L2_GRID[0]} down to ${LOGREG_L2_GRID[LOGREG_L2_GRID.length - 1]} at half-decade steps (extended
                        past an end that wins), and keep the one with the best validation AUROC (metrics.json
                        records every fit). expression-prior reads the other cells' expression of the gene in the
                        RPKM table (never --data's own cell, which must be in the table); a gene the table lacks
                        gets mean = sd = 0 and a missing flag of 1 (metrics.json derivedFeatures counts them).
                        logreg-neighbors and vae-mlp-neighbors read neighbours' inputs (test genes' windows or
                        latents may be among them, never a label)
  --target KIND         class | expression (default class): the high/low label (binary cross-entropy,
                        scored by AUROC), or log10(RPKM + 1) itself (every model above, same body, one
                        identity output, mean squared error; scored by Pearson and Spearman, best
                        epoch and logreg's penalty by validation Pearson). Expression comes from the
                        GC-MERGE genes table's log10_rpkm_plus1, else from the cell's column of the
                        RPKM table in ../shared/datasets/labels_rpkm_shallowchrome (docs/USING.md)
  --train-size N|all    labeled training genes: a seeded random subset (default all)
  --epochs N            classifier epochs (default 10); the best by validation AUROC is kept. vae-m2:
                        its own epochs after the pretrained VAE's, each a pass over the unlabeled genes
  --vae-epochs N        epochs of the VAE the vae-* models pretrain on the unlabeled train and valid
                        genes (default 30); vae-m2 starts from that same VAE (an experiment trains it
                        once per cell and seed for every vae-* model). With --m2-init random vae-m2
                        pretrains nothing and trains --vae-epochs M2 epochs instead (--epochs unused)
  --batch N             classifier minibatch size (default 64)
  --vae-batch N         the VAE's minibatch size (default: --batch's; vae-m2: its unlabeled genes')
  --lr X                Adam learning rate (default 0.001)
  --clip X|off          before each Adam step, scale the gradient down to an L2 norm of at most X, as
                        torch.nn.utils.clip_grad_norm_(model.parameters(), X) does (default off;
                        AttentiveChrome's code clips at 1). It clips the steps that train the model:
                        the classifier's, vae-joint's fine-tuning of its VAE and head, vae-m2's; not the
                        VAE pretraining the vae-* models share (once per cell and seed, unclipped). The
                        linear models (fit by L-BFGS) take no clip
  --latent N            VAE latent size (default 10)
  --beta X              weight of the KL term in the VAE loss (default 5e-5); vae-m2's -ELBO per gene is
                        (MSE + beta·KL)/beta, a Gaussian likelihood of variance bins·marks·beta/2
  --sigma KIND          logvar | softplus: how the VAE parametrises sigma (default logvar)
  --joint-weight X[,Y]  vae-joint: λ ≥ 0 in its loss, mean BCE on a minibatch of labeled genes + λ·ELBO on
                        it and as many unlabeled train and valid genes (never test); 0 fine-tunes the
                        encoder on the BCE alone (default 10). A list (0,1,10) trains one model per value
                        and keeps the best by validation AUROC (ties: the first); metrics.json's
                        weightSearch records each value's score, the experiment's weight-choices.csv too
  --alpha A[,B]         vae-m2: the weight of the labeled genes' classification loss as a multiple of N,
                        the labeled + unlabeled genes: α = A·N (default 0.1, Kingma et al.'s choice).
                        A list trains one model per value and keeps the best, as --joint-weight does
  --m2-init KIND        pretrained | random: vae-m2 starts from the pretrained VAE (default; the trunk,
                        q(z|x,y) and p(x|z,y) take its weights, the label's inputs start at zero, q(y|x)'s
                        head fresh), or from random weights with no pretraining (how it trained before;
                        runs stored then read back as random)
  --neighbors KIND      spatial | functional  (vae-mlp-neighbors, logreg-neighbors; default spatial); the
                        experiment also takes spatial,functional: each of those models then runs with each,
                        as vae-mlp-neighbors:spatial and vae-mlp-neighbors:functional in the tables
  --k N                 neighbours: k on each side (spatial) or the k best (functional); default 2
  --seed N              seeds initialisation, shuffling, dropout and sampling (default 1)

output
  --out DIR             where the run's files go (default runs/<cell>-<model>-n<size>-seed<seed>):
                        metrics.json, predictions.csv (test genes), best.safetensors (the model at its
                        best validation epoch), last.safetensors (the latest epoch, with optimizer state,
                        rewritten after every epoch), vae.safetensors (vae-* models), and the plots
                        loss.svg, roc.svg, pr.svg (+ vae-loss.svg, latent.svg for vae-* models);
                        with --target expression: predictions.csv is gene_id,observed,predicted
                        log10(RPKM + 1),split and scatter.svg (observed vs predicted) replaces roc and pr
                        A new or empty DIR only: one that holds a run is refused (continue it with
                        --resume DIR, or replace it with --overwrite); files that are not a run's are
                        never touched. One run at a time per DIR (a lock file names the process).
  --overwrite           replace the run in --out: the new run writes beside it and takes its place
                        only after its first checkpoint, so one that fails early loses nothing
  --quiet               no per-epoch progress on stderr

gpu kernels
  --gemm MODE           how each matrix product (matmul, conv) picks its GEMM variant on the GPU:
                        tune (default: the first run on an adapter times every variant of each
                        product and caches the fastest in ~/.cache/simplechrome/gemm-variants.json,
                        or $SIMPLECHROME_CACHE_DIR), heuristic (no timing), or one variant everywhere:
                        register4x4, register8x4, register4x8, register8x8, tiled64, splitk4x4,
                        reduce4x4. $SIMPLECHROME_GEMM sets the same. metrics.json records the
                        variants used; --resume reuses them.

resume
  --resume DIR          continue the run in DIR from its last checkpoint with the settings it was
                        started with (flags that contradict them are refused); on the same adapter it
                        ends exactly where an uninterrupted run would. --epochs N may extend it;
                        --gpu/--cpu and --data (the same data, moved) may change.

using a trained model (DIR is a run's --out directory)
  predict               probability of high expression for every gene of --data, normalised with the
                        statistics of the training cell: gene_id,label,probability,split to --out or
                        stdout (a --target expression model: gene_id,observed_log10_rpkm_plus1,
                        predicted_log10_rpkm_plus1,split; observed when the RPKM table has the cell);
                        stderr: AUROC and AUPR (Pearson, Spearman, MSE) per split, and whether the
                        data is the model's own training data, whose train split scores optimistically
  predict --attention   a model with attention layers also writes, beside --out, mark-attention.csv
                        (gene_id,split, a column per mark) and bin-attention.safetensors (bin_attention
                        [genes, marks, bins]; gene ids, marks in its metadata); never over existing files
  encode                the VAE's latent means of every gene of --data (vae-* models) to --out:
                        .csv (gene_id,label,z1..zN) or .safetensors (latent_mean [genes, N], label)
  explain               which marks and bins the model's output (its logit, or predicted expression)
                        rests on: the attribution of each value of a gene's window, as normalised for
                        the model, for every gene of --data (or --genes ID,ID,… or --split ${SPLITS.join('|')}).
                        --method integrated-gradients (default; from a window of no reads, --steps N
                        midpoints, default 50: they add up to f(x) − f(no reads)), grad-input (value ×
                        gradient) or saliency (the signed gradient). Every model: the gradient runs
                        back through the VAE encoder's mean (${MODEL_NAMES.filter(readsLatents).join(', ')}),
                        the model's own encoder (${MODEL_NAMES.filter((m) => !readsLatents(m) && (usesVae(m) || isSemiSupervisedVae(m))).join(', ')}), or the Jacobian of
                        the features (${MODEL_NAMES.filter((m) => derivedFeatures(m) !== undefined).join(', ')}).
                        What a model reads besides the gene's window (neighbours' latents or
                        windows, other cells' expression) is held fixed; its first-order share is
                        reported per gene (features that do not read the window give 0 everywhere).
                        --out DIR (default DIR/explain of the
                        model), files CELL-METHOD.*: attributions.safetensors [genes, bins, marks]
                        with gene ids and splits, mean.csv (mean |attribution| and mean per mark and
                        bin over expressed and silent genes), mean-maps.svg and mean-abs-maps.svg
                        (heatmaps, TSS dashed), gene-ID.svg per --genes gene, and .json

experiment (SimpleChrome's small-data comparison; alias --experiment small-data)
  experiment                models × training sizes × seeds; writes to --out small-data.csv (every run),
                            small-data.md (tables), paired.csv (each model minus each baseline, logreg,
                            mlp, deepchrome, seed by seed: mean, sd, 95% t-interval, wins),
                            auroc-vs-labeled.svg and experiment.json (its settings); with --target
                            expression the columns, tables and pearson-vs-labeled.svg use test Pearson
                            (and Spearman where AUPR stands). --data may name a
                            folder of cells (<cell>/classification/...): each runs, and per-cell.csv puts
                            DeepChrome's published AUROC beside ours. A stopped experiment continues with
                            experiment --resume DIR: finished runs are kept and skipped, and the run in
                            progress continues from its last finished epoch
  --models A,B,...          default ${DEFAULT_EXPERIMENT_MODELS.join(',')}
${COSTLY_IN_EXPERIMENT.map((m) => helpLines(`${m.name} runs only when named: ${m.why}`)).join('\n')}
  --sizes 100,1000,all      labeled training sizes (larger than the data: skipped with a note)
  --seeds N                 seeds 1..N (default 3)
  --min-steps N             each classifier trains at least N optimizer steps: small sizes get more
                            epochs than --epochs, at most --max-epochs (default 100); the CSV records
                            the epochs each run used. For example --epochs 30 --min-steps 2000

the experiment on a cluster (docs/CLUSTER.md; the plan's root, --out, must be on a shared filesystem)
  --plan FILE               with experiment: write every run of the grid to FILE (a stable
                            index each; one VAE entry per cell and seed, which the vae-* runs wait for)
                            instead of running it; each entry writes only into <--out>/entries/<index>-...
  job --plan FILE           run one entry: --index N, or $SLURM_ARRAY_TASK_ID plus --offset K; a finished
                            entry is skipped, an interrupted one continues from its last checkpoint
  slurm --plan FILE         write <--out>/slurm/*.sbatch (a VAE array, and a run array that starts after it,
                            afterok) and submit.sh over the entries not finished yet; --submit also submits.
                            --partition P --account A --time T --gres G (e.g. gpu:1) --mem M
                            --cpus-per-task N: passed to sbatch; --max-running N: tasks of one array at once
                            (default 100); --max-array-size N: the cluster's MaxArraySize (default 1001)
  collect --plan FILE       merge the finished entries into small-data.csv, .md, paired.csv, per-cell.csv,
                            the figure and experiment.json in <--out>, as one machine would write them,
                            and list the entries missing or failed (exit 1 while any is)

build a dataset from bigWig tracks (see ${COMMAND} build-dataset --help and docs/BIGWIG.md)
  build-dataset         one bigWig track per mark (any marks: H3K4me3, H3K27ac, DNase, ATAC, …) + a gene
                        table (BED/GTF/GFF3) + an expression table → bigwig-sources.json for --data, its
                        cache, and for the five DeepChrome marks the DeepChrome layout; split by
                        chromosome or at random (--split random:0.8,0.1,0.1 --seed N)

  help, --help          this text
  --version             the version of simplechrome (package.json's)
`;

/** `text` as help lines under a flag's description: indented to its column, wrapped at 108 characters. */
function helpLines(text: string, indent = 28, width = 108): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `${' '.repeat(indent)}${l}`).join('\n');
}
