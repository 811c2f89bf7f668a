export const HELP = `simplechrome: predict gene expression (high/low) from histone marks, on the GPU (WebGPU)

usage: tsx run.ts [options]
       tsx run.ts --experiment small-data [options]
       tsx run.ts --self-check

device
  --gpu                 train on the GPU (default): a hardware adapter when one exists,
                        else SwiftShader (software Vulkan, slow) with a note on stderr
  --cpu                 train with the CPU reference path (same plan, same results)
  --self-check          compare every kernel family on the GPU against its CPU twin

data
  --data PATH           a cell: a DeepChrome directory (<cell>/classification/{train,valid,test}.csv[.gz]
                        or the three files), a file prefix such as .../E003_sample600, AttentiveChrome
                        files (<prefix>.{train,valid,test}.csv[.gz] + <prefix>.expr.csv[.gz]) or a
                        GC-MERGE directory. Default: the real E003 sample in ../shared/datasets when
                        present, else a SYNTHETIC demo set (see datasets/README.md for real data)
  --normalize SCHEME    raw | log1p | max | log1p-max | zscore | log1p-zscore  (default log1p-max;
                        statistics from the training genes only)

model and training
  --model NAME          mlp | deepchrome | vae-mlp | vae-mlp-neighbors  (default deepchrome)
  --train-size N|all    labeled training genes: a seeded random subset (default all)
  --epochs N            classifier epochs (default 10); the best by validation AUROC is kept
  --vae-epochs N        VAE epochs for the vae-* models (default 30)
  --batch N             minibatch size (default 64)
  --lr X                Adam learning rate (default 0.001)
  --latent N            VAE latent size (default 10)
  --beta X              weight of the KL term in the VAE loss (default 5e-5)
  --sigma KIND          logvar | softplus: how the VAE parametrises sigma (default logvar)
  --neighbors KIND      spatial | functional  (vae-mlp-neighbors; default spatial)
  --k N                 neighbours: k on each side (spatial) or the k best (functional); default 2
  --seed N              seeds initialisation, shuffling, dropout and sampling (default 1)

output
  --out DIR             where metrics.json and predictions.csv go
                        (default runs/<cell>-<model>-n<size>-seed<seed>)
  --quiet               no per-epoch progress on stderr

experiment (SimpleChrome's small-data comparison)
  --experiment small-data   models × training sizes × seeds; writes small-data.md and .csv to --out
  --models A,B,...          default mlp,deepchrome,vae-mlp,vae-mlp-neighbors
  --sizes 100,1000,all      labeled training sizes (larger than the data: skipped with a note)
  --seeds N                 seeds 1..N (default 3)

  --help                this text
`;
