#!/usr/bin/env python3
"""PyTorch (eager, on CUDA or the CPU) training throughput for the models bench/train.ts times.

    python3 bench/pytorch_train.py [--models vae,mlp,deepchrome,attentivechrome] [--batches 64,256]
                                   [--epochs 5] [--steps 20]
                                   [--data PREFIX | --genes N] [--device cuda|cpu]
                                   [--threads N] [--attentive-hidden BIN,MARK] [--json FILE]

The same models as src/models (MLP 500-256-128-1; DeepChrome conv 5->50 k10,
max-pool 5, dropout 0.5, 625, 125, 1; SimpleChrome's VAE: conv 5->32->64 k5 same with
LeakyReLU(0.5), mu/logvar heads of 10, decoder dense -> 6400, transposed convs 64->64->32
k5 and 32->5 k1, tanh; MSE + beta*KL with beta 5e-5; AttentiveChrome: per mark its own
bidirectional LSTM of 32 units per direction over the bins and bin attention, a
bidirectional LSTM of 16 over the marks and mark attention, Linear(32->1), U(+-0.1) init,
Adam lr 1e-4 with gradients clipped at norm 1); the others Adam lr 1e-3; on data of the same
shape (100 bins x 5 marks): the real E003 sample's training split with --data
(log1p-max as the CLI), or --genes N random values in [-1, 1] (throughput does not
depend on the values). The data lives on the device; an epoch draws one shuffled
order on the device, runs every step (gather, forward, loss, backward, Adam) and
reads the summed loss once, like bench/train.ts. On CUDA, timed with
torch.cuda.synchronize() around each region (on the CPU every op has finished when
it returns); median of --epochs epochs and --steps single steps after warm-up.
The JSON also has each epoch's CPU time (all threads of the process): beside the
wall clock it shows how long the process waited for cores other work held.
--threads sets torch's intra-op threads on the CPU (default: torch's own choice,
printed). Debian's python3-torch (apt-get install python3-torch) is built for
Debian's /usr/bin/python3, not for a pyenv or venv python3 earlier on PATH.
Prints genes/s (step: batch / step time; epoch: steps x batch / epoch time) in the
same table layout as bench/train.ts.
"""

import argparse
import datetime
import gzip
import json
import os
import statistics
import time

import sys

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:
    sys.exit(
        f"pytorch_train.py: {e} under {sys.executable}. On Debian: apt-get install python3-torch, "
        "then run this with /usr/bin/python3 (Debian's torch is not visible to a pyenv or venv python3)."
    )

BINS, MARKS, LATENT, BETA, LR = 100, 5, 10, 5e-5, 1e-3
# AttentiveChrome's training defaults (src/models/definitions/attentivechrome.ts): its public code's lr and clip.
ATTENTIVE_LR, ATTENTIVE_CLIP, ATTENTIVE_HIDDEN = 1e-4, 1.0, (32, 16)
MODELS = ("vae", "mlp", "deepchrome", "attentivechrome")


def read_split(path):
    """DeepChrome CSV rows: gene, bin, 5 marks, label -> ([genes, bins, marks], labels)."""
    with gzip.open(path, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.float64)
    genes = rows.shape[0] // BINS
    rows = rows[: genes * BINS].reshape(genes, BINS, rows.shape[1])
    return rows[:, :, 2 : 2 + MARKS].astype(np.float32), rows[:, 0, 2 + MARKS].astype(np.float32)


def load_real(prefix):
    x, y = read_split(f"{prefix}.train.csv.gz")
    # log1p-max: y = 2 * log1p(x) / max - 1, the maximum per mark over these training genes.
    f = np.log1p(x)
    mx = f.reshape(-1, MARKS).max(axis=0)
    mx[mx == 0] = 1.0
    x = 2.0 * f / mx - 1.0
    return x.astype(np.float32), y, f"REAL {os.path.basename(prefix)}: {x.shape[0]} training genes, {BINS} bins x {MARKS} marks, log1p-max"


def load_synthetic(genes, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(genes, BINS, MARKS)).astype(np.float32)
    y = (rng.uniform(size=genes) < 0.5).astype(np.float32)
    return x, y, f"SYNTHETIC: {genes} genes of uniform random values in [-1, 1], {BINS} bins x {MARKS} marks"


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        leaky = lambda: nn.LeakyReLU(0.5)  # noqa: E731
        self.encoder = nn.Sequential(
            nn.Conv1d(MARKS, 32, 5, padding=2), leaky(), nn.Conv1d(32, 64, 5, padding=2), leaky(), nn.Flatten()
        )
        self.mu = nn.Linear(64 * BINS, LATENT)
        self.logvar = nn.Linear(64 * BINS, LATENT)
        self.decoder = nn.Sequential(
            nn.Linear(LATENT, 64 * BINS), leaky(), nn.Unflatten(1, (64, BINS)),
            nn.ConvTranspose1d(64, 64, 5, padding=2), leaky(),
            nn.ConvTranspose1d(64, 32, 5, padding=2), leaky(),
            nn.ConvTranspose1d(32, MARKS, 1), nn.Tanh(),
        )

    def loss(self, x, _y):
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        recon = self.decoder(z)
        mse = torch.mean((recon - x) ** 2)
        kl = torch.sum(-0.5 * (1 + logvar - mu**2 - torch.exp(logvar))) / x.shape[0]
        return mse + BETA * kl


class Classifier(nn.Module):
    def __init__(self, kind):
        super().__init__()
        if kind == "mlp":
            self.net = nn.Sequential(
                nn.Flatten(), nn.Linear(BINS * MARKS, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 1)
            )
        else:
            pooled = (BINS - 10 + 1) // 5
            self.net = nn.Sequential(
                nn.Conv1d(MARKS, 50, 10), nn.ReLU(), nn.MaxPool1d(5), nn.Flatten(), nn.Dropout(0.5),
                nn.Linear(50 * pooled, 625), nn.ReLU(), nn.Linear(625, 125), nn.ReLU(), nn.Linear(125, 1),
            )
        self.bce = nn.BCEWithLogitsLoss()

    def loss(self, x, y):
        return self.bce(self.net(x).squeeze(1), y)


def one_bias_lstm(inputs, hidden):
    """A bidirectional nn.LSTM with one bias per gate, as ours and TF.js's: PyTorch's second bias (bias_hh) is
    held at 0 and not trained, so the trainable parameters and the maths are the same."""
    lstm = nn.LSTM(inputs, hidden, batch_first=True, bidirectional=True)
    for name, p in lstm.named_parameters():
        if name.startswith("bias_hh"):
            nn.init.zeros_(p)
            p.requires_grad_(False)
    return lstm


def attend(h, context):
    """h [B, T, D] pooled by softmax over T of h . context: [B, D] (AttentiveChrome's attention, no tanh)."""
    alpha = torch.softmax(h @ context, dim=1)
    return (alpha.unsqueeze(2) * h).sum(1)


class AttentiveChrome(nn.Module):
    def __init__(self, hidden=ATTENTIVE_HIDDEN):
        super().__init__()
        bin_h, mark_h = hidden
        self.bin_lstms = nn.ModuleList(one_bias_lstm(1, bin_h) for _ in range(MARKS))
        self.bin_contexts = nn.Parameter(torch.empty(MARKS, 2 * bin_h))
        self.mark_lstm = one_bias_lstm(2 * bin_h, mark_h)
        self.mark_context = nn.Parameter(torch.empty(2 * mark_h))
        self.out = nn.Linear(2 * mark_h, 1)
        for p in self.parameters():
            if p.requires_grad:
                nn.init.uniform_(p, -0.1, 0.1)
        self.bce = nn.BCEWithLogitsLoss()

    def loss(self, x, y):
        # x is stored channels first, [B, marks, bins]: each mark's sequence is one row.
        per_mark = [attend(lstm(x[:, m, :].unsqueeze(2))[0], self.bin_contexts[m]) for m, lstm in enumerate(self.bin_lstms)]
        h = self.mark_lstm(torch.stack(per_mark, 1))[0]
        return self.bce(self.out(attend(h, self.mark_context)).squeeze(1), y)


def build(kind, attentive_hidden=ATTENTIVE_HIDDEN):
    if kind == "attentivechrome":
        return AttentiveChrome(attentive_hidden)
    return Vae() if kind == "vae" else Classifier(kind)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} x {os.cpu_count()}"
    except OSError:
        pass
    return f"cpu x {os.cpu_count()}"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench(kind, X, Y, train_genes, batch, epochs, steps, device, attentive_hidden=ATTENTIVE_HIDDEN):
    torch.manual_seed(1)
    model = build(kind, attentive_hidden).to(device).train()
    trained = [p for p in model.parameters() if p.requires_grad]
    attentive = kind == "attentivechrome"
    opt = torch.optim.Adam(trained, lr=ATTENTIVE_LR if attentive else LR)
    params = sum(p.numel() for p in trained)
    n_steps = -(-train_genes // batch)
    length = n_steps * batch

    def step_on(idx):
        loss = model.loss(X[idx], Y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if attentive:
            nn.utils.clip_grad_norm_(trained, ATTENTIVE_CLIP)
        opt.step()
        return loss.detach()

    def epoch():
        perm = torch.randperm(train_genes, device=device)
        order = perm.repeat(-(-length // train_genes))[:length]
        total = torch.zeros((), device=device)
        for s in range(n_steps):
            total += step_on(order[s * batch : (s + 1) * batch])
        return total.item() / n_steps  # the one host read of the epoch

    first = torch.arange(batch, device=device) % train_genes
    for _ in range(3):
        step_on(first)
    sync(device)
    epoch_times, epoch_cpu, loss = [], [], float("nan")
    for e in range(epochs):
        sync(device)
        t0, c0 = time.perf_counter(), time.process_time()
        l = epoch()
        epoch_times.append(time.perf_counter() - t0)
        epoch_cpu.append(time.process_time() - c0)
        if e == 0:
            loss = l
    step_times = []
    for _ in range(steps):
        sync(device)
        t0 = time.perf_counter()
        step_on(first)
        sync(device)
        step_times.append((time.perf_counter() - t0) * 1000)
    return {
        "model": kind,
        "batch": batch,
        "steps": n_steps,
        "parameters": params,
        "stepMs": statistics.median(step_times),
        "epochS": statistics.median(epoch_times),
        "epochCpuS": statistics.median(epoch_cpu),
        "loss": loss,
    }


def sig(x):
    if x == 0 or not np.isfinite(x):
        return str(x)
    digits = max(0, 2 - int(np.floor(np.log10(abs(x)))))
    return f"{x:.{min(digits, 6)}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="64,256")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--data", help="prefix of the DeepChrome .{train,valid,test}.csv.gz files")
    src.add_argument("--genes", type=int, default=600, help="synthetic genes (default when --data is not given)")
    ap.add_argument("--bins", type=int, help="synthetic data only: bins per mark (default 100, the real data's); an LSTM's cost grows with it")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--threads", type=int, help="CPU only: torch.set_num_threads (default: torch's choice)")
    ap.add_argument("--attentive-hidden", default=",".join(map(str, ATTENTIVE_HIDDEN)),
                    help="AttentiveChrome's LSTM units per direction over the bins and over the marks (tests use small ones)")
    ap.add_argument("--json")
    a = ap.parse_args()
    models = [m.strip() for m in a.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            ap.error(f"--models: unknown {m!r} (known: {', '.join(MODELS)})")
    try:
        attentive_hidden = tuple(int(h) for h in a.attentive_hidden.split(","))
    except ValueError:
        attentive_hidden = ()
    if len(attentive_hidden) != 2 or min(attentive_hidden) < 1:
        ap.error(f"--attentive-hidden: two positive integers BIN,MARK, got {a.attentive_hidden!r}")
    batches = [int(b) for b in a.batches.split(",")]
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: torch sees no CUDA device (say --device cpu to time the CPU)")
    if a.threads is not None:
        if device.type != "cpu" or a.threads < 1:
            ap.error("--threads: a positive count, with --device cpu only")
        torch.set_num_threads(a.threads)
    threads = torch.get_num_threads()
    if a.bins is not None:
        if a.data or a.bins < 1:
            ap.error("--bins: a positive count, for synthetic data only (not with --data)")
        if "deepchrome" in models and a.bins < 14:
            ap.error(f"--bins {a.bins}: deepchrome needs at least 14 (its conv of 10 and max-pool of 5 leave no output below)")
        global BINS
        BINS = a.bins
    x, y, description = load_real(a.data) if a.data else load_synthetic(a.genes)
    # Conv1d wants channels first: the data is stored that way once, on the device.
    X = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1))).to(device)
    Y = torch.from_numpy(y).to(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({cpu_name()}, {threads} torch thread(s))"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print("# Training benchmark: PyTorch eager\n")
    print(f"date {datetime.date.today().isoformat()} · torch {torch.__version__} · device {name} · load average {load} at start")
    print(f"data: {description}")
    timing = "torch.cuda.synchronize() around each" if device.type == "cuda" else "host clock"
    print(f"{a.epochs} timed epoch(s), {a.steps} timed step(s) after 3 warm-up steps; {timing}\n")
    rows = []
    for m in models:
        for b in batches:
            r = bench(m, X, Y, x.shape[0], b, a.epochs, a.steps, device, attentive_hidden)
            rows.append(r)
            genes = r["steps"] * b
            print(f"{m:<10} batch {b:<4} step {sig(r['stepMs'])} ms, epoch {sig(r['epochS'])} s ({sig(genes / r['epochS'])} genes/s), loss {sig(r['loss'])}")
    header = ["model", "batch", "steps/epoch", "parameters", "PyTorch step ms", "PyTorch genes/s (step)", "PyTorch epoch s", "PyTorch genes/s (epoch)"]
    lines = [header] + [
        [r["model"], str(r["batch"]), str(r["steps"]), f"{r['parameters']:,}", sig(r["stepMs"]), sig(r["batch"] / (r["stepMs"] / 1000)),
         sig(r["epochS"]), sig(r["steps"] * r["batch"] / r["epochS"])]
        for r in rows
    ]
    width = [max(len(l[i]) for l in lines) for i in range(len(header))]
    fmt = lambda cells: "| " + " | ".join(c.ljust(width[i]) for i, c in enumerate(cells)) + " |"  # noqa: E731
    print()
    print(fmt(lines[0]))
    print("|" + "|".join("-" * (w + 2) for w in width) + "|")
    for l in lines[1:]:
        print(fmt(l))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(
                {"bench": "pytorch_train", "torch": torch.__version__, "device": name, "deviceType": device.type, "threads": threads,
                 "epochs": a.epochs, "steps": a.steps, "load": os.getloadavg(), "data": description, "rows": rows},
                f, indent=2,
            )


if __name__ == "__main__":
    main()
