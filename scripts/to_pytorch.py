#!/usr/bin/env python3
"""A simplechrome run directory as PyTorch modules.

A training run with --out DIR leaves DIR/best.safetensors (the classifier at
its best validation epoch), DIR/vae.safetensors for the models that read a
VAE, DIR/metrics.json and DIR/predictions.csv. This module rebuilds the
classifier as a torch.nn.Module with the run's weights, and puts in front of
it what the run did to the data: the normalization fitted on its training
genes (stored in every checkpoint's metadata) and, for vae-mlp, the VAE
encoder whose latent means its MLP reads. The module takes a gene's raw
window, counts [genes, bins, marks] in the DeepChrome order of marks, and
returns what predictions.csv holds: the probability of "expressed" (or, for a
run trained with --target expression, the predicted log10(RPKM + 1)).

Models rebuilt: mlp, deepchrome, logreg, mark-means, vae-mlp, vae-joint,
attentivechrome (its nn.LSTMs with PyTorch's second bias held at 0). The
others read features from more than the gene's own window (its neighbours,
the TSS annotation, the 56-cell expression table) or are a different kind of
model (vae-m2); for them use `npx tsx run.ts predict`.

The data. By default the script reads the data the run recorded: the path in
the checkpoint's metadata, in the DeepChrome layout (P.{train,valid,test}.csv
[.gz] under a prefix P, or a directory holding {train,valid,test}.csv[.gz],
directly or under classification/), and checks it is the very data the run
trained on: the SHA-256 fingerprint of gene ids, splits, labels and counts
that the run recorded must match. It then writes the test genes, the rows of
predictions.csv. A relative recorded path is read from the current
directory. --data PATH reads another copy or another cell (no fingerprint
check: a new cell is expected to differ); --all-genes writes every gene.

As a library (python3 -c, or from a notebook with scripts/ on sys.path):

    from to_pytorch import load_run, read_deepchrome
    run = load_run("runs/e003-mlp")          # run.model is an nn.Module
    cell = read_deepchrome(run.data_path)    # or any DeepChrome-layout cell
    probabilities = run.model(torch.from_numpy(cell.windows)).detach().numpy()

Weight layouts (docs/USING.md section 6): a dense weight is stored [in, out]
and becomes Linear's [out, in]; a conv1d weight [kernel, in, out] becomes
Conv1d's [out, in, kernel]. simplechrome's convolutions run over
channels-last windows [bins, channels]; the modules here take and flatten
windows in that order too, so that a flattened vector lines up with the
stored dense weights.

Needs PyTorch and NumPy (Debian: apt-get install python3-torch), nothing else:
the safetensors files are read with the standard library (safetensors_file.py,
beside this script, which must stay beside it).

usage: to_pytorch.py RUN_DIR [--data PATH] [--all-genes] [--out FILE.csv] [--float64]
       to_pytorch.py --supported     (the models it rebuilds, with the input each reads, and those it does not, with why: JSON)
"""

import argparse
import csv
import gzip
import hashlib
import json
import math
import os
import sys
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from safetensors_file import SafetensorsError
from safetensors_file import read_safetensors as read_file

FORMAT = "simplechrome-checkpoint-1"
MARKS = ("H3K27me3", "H3K36me3", "H3K4me1", "H3K4me3", "H3K9me3")
SPLITS = ("train", "valid", "test")
SPLIT_CODES = {"train": 0, "valid": 1, "test": 2}

# What each model's classifier reads, as its definition under src/models/definitions/ declares it (`input`).
SUPPORTED = {
    "mlp": "window",
    "deepchrome": "window",
    "logreg": "window",
    "mark-means": "derived",
    "vae-mlp": "latent",
    "vae-joint": "window+vae",
    "attentivechrome": "window",
}

# The models not rebuilt, and why. test/pytorch-bridge.test.ts checks that the two tables name every model of the
# registry, so a new model is a decision here too.
UNSUPPORTED = {
    "tss-linear": "its features are summaries at the TSS, placed with the gene annotation",
    "expression-prior": "its features come from the 56-cell expression table, not the marks",
    "logreg-neighbors": "its features include the windows of the gene's neighbours, found with the gene annotation",
    "vae-mlp-neighbors": "its MLP reads the latent means of the gene's neighbours too, found with the gene annotation",
    "vae-m2": "it is Kingma et al.'s M2, whose classifier q(y|x) sits inside a semi-supervised VAE",
}


class BridgeError(Exception):
    """A file or setting the bridge cannot use; the message names it and says why."""


def _fail(where, what):
    raise BridgeError(f"{where}: {what}")


# ---------------------------------------------------------------------------
# Checkpoints: safetensors files (read by safetensors_file.py, beside this script) with simplechrome's metadata


@dataclass
class Safetensors:
    tensors: dict  # name -> np.ndarray (float32)
    metadata: dict  # str -> str


def read_safetensors(path):
    """A safetensors file's float32 tensors as arrays, its layout checked and simplechrome's checksum verified. Raises
    BridgeError naming the file and the problem."""
    try:
        st = read_file(path)
    except SafetensorsError as e:
        raise BridgeError(str(e)) from None
    if st.stored_checksum is not None and st.stored_checksum != st.computed_checksum:
        _fail(path, f"checksum mismatch: the file is corrupted (stored sha256 {st.stored_checksum}, computed {st.computed_checksum})")
    tensors = {}
    for name, t in st.tensors.items():
        if t.dtype != "F32":
            _fail(path, f'tensor "{name}" is {t.dtype}, expected F32')
        tensors[name] = np.frombuffer(st.bytes_of(name), dtype="<f4").astype(np.float32).reshape(t.shape)
    return Safetensors(tensors, st.metadata)


@dataclass
class Checkpoint:
    path: str
    file: Safetensors
    model_name: str
    run_id: str
    spec: dict  # the network's sizes (metadata "model")
    settings: dict
    normalization: dict
    data: dict  # cell, path, layout, genes, bins, marks, fingerprint


def read_checkpoint(path, role):
    """A simplechrome checkpoint of `role` ("best" or "vae") with its metadata parsed."""
    st = read_safetensors(path)
    meta = st.metadata
    if meta.get("format") != FORMAT:
        _fail(path, f'format is {json.dumps(meta.get("format"))}, expected "{FORMAT}" (not a simplechrome checkpoint?)')
    if meta.get("role") != role:
        _fail(path, f'holds a "{meta.get("role")}" checkpoint, expected "{role}"')

    def parsed(key):
        if key not in meta:
            _fail(path, f'metadata has no "{key}"')
        try:
            return json.loads(meta[key])
        except json.JSONDecodeError as e:
            _fail(path, f'metadata "{key}" is not JSON ({e})')

    return Checkpoint(
        path=path,
        file=st,
        model_name=meta.get("model_name", ""),
        run_id=meta.get("run_id", ""),
        spec=parsed("model"),
        settings=parsed("settings"),
        normalization=parsed("normalization"),
        data=parsed("data"),
    )


# ---------------------------------------------------------------------------
# The networks. Each takes normalised windows [genes, bins, marks] (or latent means) and returns one output per gene.


class Normalize(nn.Module):
    """The run's normalization: y = (f(x) − center[m]) / scale[m] per mark, f = log1p for the log1p-* schemes, computed
    in float64 and rounded to float32 as simplechrome does (src/data/normalize.ts). Takes raw counts [genes, bins, marks]."""

    def __init__(self, stats):
        super().__init__()
        self.scheme = stats["scheme"]
        self.log = self.scheme.startswith("log1p")
        self.register_buffer("center", torch.tensor(stats["center"], dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(stats["scale"], dtype=torch.float64))

    def forward(self, counts):
        x = counts.to(torch.float64)
        if self.log:
            x = torch.log1p(x)
        return ((x - self.center) / self.scale).to(torch.float32)


class Mlp(nn.Module):
    """flatten → (Linear + ReLU)* → Linear to one output; logistic regression when `hidden` is empty. The layers are
    named as in the checkpoint: fc1, fc2, …, out."""

    def __init__(self, width, hidden):
        super().__init__()
        self.hidden = [f"fc{i + 1}" for i in range(len(hidden))]
        for name, h in zip(self.hidden, hidden):
            self.add_module(name, nn.Linear(width, h))
            width = h
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        x = x.flatten(1)
        for name in self.hidden:
            x = torch.relu(getattr(self, name)(x))
        return self.out(x).squeeze(1)


def _channels_last(y):
    """[genes, channels, length] (PyTorch's Conv1d) → [genes, length, channels], the order simplechrome flattens."""
    return y.permute(0, 2, 1)


class DeepChrome(nn.Module):
    """Singh et al.'s DeepChrome as simplechrome trains it (src/models/deepchrome.ts): conv1d (valid) + ReLU, max-pool,
    flatten, dropout (inactive in eval mode), then an MLP."""

    def __init__(self, spec):
        super().__init__()
        self.conv = nn.Conv1d(spec["marks"], spec["convChannels"], spec["kernelSize"])
        self.pool = nn.MaxPool1d(spec["pool"])
        self.dropout = nn.Dropout(spec["dropout"])
        pooled = (spec["bins"] - spec["kernelSize"] + 1) // spec["pool"]
        self.head = Mlp(pooled * spec["convChannels"], spec["hidden"])

    def forward(self, x):
        y = self.pool(torch.relu(self.conv(_channels_last(x))))
        return self.head(self.dropout(_channels_last(y).flatten(1)))


class VaeEncoder(nn.Module):
    """SimpleChrome's VAE encoder (src/models/vae.ts): conv 'same' + LeakyReLU twice, flatten, then the mean and
    log-variance heads. forward gives the latent means, what vae-mlp's MLP reads."""

    def __init__(self, spec):
        super().__init__()
        c1, c2 = spec["channels"]
        k = spec["kernelSize"]
        self.conv1 = nn.Conv1d(spec["marks"], c1, k, padding="same")
        self.conv2 = nn.Conv1d(c1, c2, k, padding="same")
        self.act = nn.LeakyReLU(spec["leak"])
        self.mu = nn.Linear(spec["bins"] * c2, spec["latent"])
        self.logvar = nn.Linear(spec["bins"] * c2, spec["latent"])

    def features(self, x):
        h = self.act(self.conv2(self.act(self.conv1(_channels_last(x)))))
        return _channels_last(h).flatten(1)

    def forward(self, x):
        return self.mu(self.features(x))


class LatentClassifier(nn.Module):
    """An MLP on the latent means of a VAE encoder: vae-mlp (the VAE from vae.safetensors) and vae-joint (the
    fine-tuned encoder in its own checkpoint)."""

    def __init__(self, encoder, head):
        super().__init__()
        self.enc = encoder
        self.head = head

    def forward(self, x):
        return self.head(self.enc(x))


class MarkMeans(nn.Module):
    """mark-means: logistic regression on each mark's mean over the window, summed in float64 as
    src/models/definitions/mark-means.ts does."""

    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, x):
        return self.head(x.to(torch.float64).mean(dim=1).to(x.dtype))


def _attend(h, context):
    """AttentionPool (src/nn/attentionPool.ts): h [genes, T, D] pooled by the softmax over T of h · context."""
    alpha = torch.softmax(h @ context, dim=1)
    return (alpha.unsqueeze(2) * h).sum(1)


class AttentiveChrome(nn.Module):
    """AttentiveChrome as simplechrome trains it (src/models/attentiveChrome.ts): per mark its own BiLSTM over the
    bins and a bin-level attention, a BiLSTM over the marks' vectors and a mark-level attention, a Linear to the
    logit. The LSTMs are nn.LSTMs whose second bias (bias_hh) is 0: simplechrome has one bias per gate."""

    def __init__(self, spec):
        super().__init__()
        bin_h, mark_h = spec["hidden"]
        self.marks = spec["marks"]
        self.bin_lstms = nn.ModuleList(nn.LSTM(1, bin_h, batch_first=True, bidirectional=True) for _ in range(self.marks))
        self.bin_context = nn.Parameter(torch.zeros(self.marks, 2 * bin_h))
        self.mark_lstm = nn.LSTM(2 * bin_h, mark_h, batch_first=True, bidirectional=True)
        self.mark_context = nn.Parameter(torch.zeros(1, 2 * mark_h))
        self.out = nn.Linear(2 * mark_h, 1)

    def forward(self, x):
        per_mark = [_attend(lstm(x[:, :, m : m + 1])[0], self.bin_context[m]) for m, lstm in enumerate(self.bin_lstms)]
        h = self.mark_lstm(torch.stack(per_mark, 1))[0]
        return self.out(_attend(h, self.mark_context[0])).squeeze(1)


def _load_lstm(lstm, weight, bias, key, path):
    """One group's BiLSTM from the checkpoint's [2, I + H, 4H] weight (W_ih stacked on W_hh, gates i, f, g, o as
    PyTorch's) and [2, 4H] bias, direction 0 forward and 1 backward."""
    inputs, hidden = lstm.input_size, lstm.hidden_size
    if tuple(weight.shape) != (2, inputs + hidden, 4 * hidden) or tuple(bias.shape) != (2, 4 * hidden):
        _fail(path, f'tensor "{key}" has shape {list(weight.shape)} (bias {list(bias.shape)}), the network expects {[2, inputs + hidden, 4 * hidden]} (bias {[2, 4 * hidden]})')
    for d, suffix in ((0, ""), (1, "_reverse")):
        getattr(lstm, "weight_ih_l0" + suffix).copy_(torch.from_numpy(np.ascontiguousarray(weight[d, :inputs].T)))
        getattr(lstm, "weight_hh_l0" + suffix).copy_(torch.from_numpy(np.ascontiguousarray(weight[d, inputs:].T)))
        getattr(lstm, "bias_ih_l0" + suffix).copy_(torch.from_numpy(np.ascontiguousarray(bias[d])))
        getattr(lstm, "bias_hh_l0" + suffix).zero_()


def load_attentive_chrome(net, st, path):
    """Copies an attentivechrome checkpoint (binLstm, binAttention, markLstm, markAttention, out) into `net`."""

    def tensor(key, shape=None):
        if key not in st.tensors:
            _fail(path, f'no tensor "{key}" (the AttentiveChrome network has it)')
        value = st.tensors[key]
        if shape is not None and tuple(value.shape) != tuple(shape):
            _fail(path, f'tensor "{key}" has shape {list(value.shape)}, the network expects {list(shape)}')
        return value

    used = {"binLstm.weight", "binLstm.bias", "binAttention.context", "markLstm.weight", "markLstm.bias", "markAttention.context"}
    with torch.no_grad():
        w, b = tensor("binLstm.weight"), tensor("binLstm.bias")
        if w.shape[0] != net.marks or b.shape[0] != net.marks:
            _fail(path, f'tensor "binLstm.weight" has {w.shape[0]} groups, the network expects one per mark ({net.marks})')
        for m, lstm in enumerate(net.bin_lstms):
            _load_lstm(lstm, w[m], b[m], "binLstm.weight", path)
        net.bin_context.copy_(torch.from_numpy(np.ascontiguousarray(tensor("binAttention.context", net.bin_context.shape))))
        w, b = tensor("markLstm.weight"), tensor("markLstm.bias")
        if w.shape[0] != 1 or b.shape[0] != 1:
            _fail(path, f'tensor "markLstm.weight" has {w.shape[0]} groups, the network expects 1')
        _load_lstm(net.mark_lstm, w[0], b[0], "markLstm.weight", path)
        net.mark_context.copy_(torch.from_numpy(np.ascontiguousarray(tensor("markAttention.context", net.mark_context.shape))))
    out = nn.Module()
    out.out = net.out
    return used | load_weights(out, st, path)


class SimplechromeModel(nn.Module):
    """Raw counts [genes, bins, marks] → normalised → the network → a probability per gene (sigmoid of the logit), or
    the predicted log10(RPKM + 1) for a run trained with --target expression."""

    def __init__(self, normalize, network, target):
        super().__init__()
        self.normalize = normalize
        self.network = network
        self.target = target

    def forward(self, counts):
        y = self.network(self.normalize(counts).to(self.dtype))
        return torch.sigmoid(y) if self.target == "class" else y

    @property
    def dtype(self):
        return next(self.network.parameters()).dtype


# ---------------------------------------------------------------------------
# Loading weights: checkpoint layouts → PyTorch's


def load_weights(module, st, path, prefix=""):
    """Copies every Linear and Conv1d of `module` from the tensors "<prefix><name>.weight" / ".bias" of a checkpoint,
    transposing to PyTorch's layouts. Returns the names read."""
    used = set()
    with torch.no_grad():
        for name, layer in module.named_modules():
            if isinstance(layer, nn.Linear):
                to_torch = lambda w: w.T  # [in, out] → [out, in]
            elif isinstance(layer, nn.Conv1d):
                to_torch = lambda w: w.transpose(2, 1, 0)  # [kernel, in, out] → [out, in, kernel]
            else:
                continue
            for part, target in (("weight", layer.weight), ("bias", layer.bias)):
                key = prefix + _checkpoint_name(name) + "." + part
                if key not in st.tensors:
                    _fail(path, f'no tensor "{key}" (the {type(module).__name__} network has it)')
                value = st.tensors[key]
                value = to_torch(value) if part == "weight" else value
                if tuple(value.shape) != tuple(target.shape):
                    _fail(path, f'tensor "{key}" has shape {list(st.tensors[key].shape)}, the network expects {_stored_shape(target, part)}')
                target.copy_(torch.from_numpy(np.ascontiguousarray(value)))
                used.add(key)
    return used


def _checkpoint_name(module_name):
    """The checkpoint's name of a layer: the module path without the containers that only group layers."""
    return ".".join(p for p in module_name.split(".") if p not in ("head",))


def _stored_shape(param, part):
    """The checkpoint's shape of a PyTorch parameter: the inverse of load_weights' transposition, for messages."""
    shape = list(param.shape)
    # Linear [out, in] ← [in, out]; Conv1d [out, in, kernel] ← [kernel, in, out]: both reverse the axes.
    return shape if part == "bias" else shape[::-1]


def _require_all_used(st, used, path, ignore=()):
    extra = sorted(k for k in st.tensors if k not in used and not k.startswith(ignore))
    if extra:
        _fail(path, f"holds tensors the network has no place for: {', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}")


def _network(best, run_dir):
    """The classifier network of a best checkpoint (and its VAE's encoder for vae-mlp), weights loaded."""
    spec, name, path = best.spec, best.model_name, best.path
    arch = spec.get("architecture")
    kind = SUPPORTED[name]
    if kind == "window" and arch == "deepchrome":
        net = DeepChrome(spec)
    elif kind in ("window", "derived", "latent") and arch in ("mlp", "logreg"):
        net = Mlp(math.prod(spec["inputShape"]), spec.get("hidden", []))
        if kind == "derived":
            net = MarkMeans(net)
    elif kind == "window+vae" and arch == "vae-joint":
        net = LatentClassifier(VaeEncoder(spec["vae"]), Mlp(spec["vae"]["latent"], spec["hidden"]))
    elif kind == "window" and arch == "attentivechrome":
        net = AttentiveChrome(spec)
        _require_all_used(best.file, load_attentive_chrome(net, best.file, path), path)
        return net
    else:
        _fail(path, f"model_name {name} with a {arch} classifier is not a combination a run writes")
    if kind != "latent":
        used = load_weights(net, best.file, path)
        # vae-joint's checkpoint holds the decoder too, which prediction does not run.
        _require_all_used(best.file, used, path, ignore=("dec.",) if kind == "window+vae" else ())
        return net
    # vae-mlp: the MLP reads the latent means of the run's VAE, stored beside it.
    vae_path = os.path.join(run_dir, "vae.safetensors")
    if not os.path.exists(vae_path):
        _fail(vae_path, f"no such file: {name}'s classifier reads the latent means of the run's VAE, which the run writes there")
    vae = read_checkpoint(vae_path, "vae")
    if vae.run_id != best.run_id:
        _fail(vae_path, f"belongs to run {vae.run_id}, {path} to run {best.run_id}: the VAE is not the one the classifier was trained on")
    encoder = VaeEncoder(vae.spec)
    load_weights(encoder, vae.file, vae_path, prefix="enc.")
    head_used = load_weights(net, best.file, path)
    _require_all_used(best.file, head_used, path)
    if encoder.mu.out_features != math.prod(spec["inputShape"]):
        _fail(path, f"the classifier reads {math.prod(spec['inputShape'])} features, the VAE gives {encoder.mu.out_features} latent means")
    return LatentClassifier(encoder, net)


@dataclass
class Run:
    """A run directory rebuilt: `model` maps raw counts [genes, bins, marks] to what predictions.csv holds."""

    directory: str
    model_name: str
    target: str
    model: SimplechromeModel
    normalization: dict
    settings: dict
    data: dict  # what the run recorded of its data: cell, path, layout, genes, bins, marks, fingerprint

    @property
    def data_path(self):
        return self.data["path"]


def load_run(run_dir, dtype=torch.float32):
    """Rebuilds the classifier of a run directory (best.safetensors, and vae.safetensors for vae-mlp) as an
    nn.Module in eval mode, in float32 as trained (or `dtype`, e.g. torch.float64)."""
    if not os.path.isdir(run_dir):
        _fail(run_dir, "no such directory (expected a run directory that training wrote with --out)")
    path = os.path.join(run_dir, "best.safetensors")
    if not os.path.exists(path):
        _fail(path, "no such file: not a finished run directory (training writes best.safetensors after its first epoch)")
    best = read_checkpoint(path, "best")
    if best.model_name not in SUPPORTED:
        _fail(path, _unsupported(best.model_name))
    target = best.settings.get("target", "class")
    marks = best.normalization.get("marks")
    if tuple(marks or ()) != MARKS:
        _fail(path, f"the run read marks {marks}; the bridge reads windows of {', '.join(MARKS)}")
    network = _network(best, run_dir).to(dtype)
    model = SimplechromeModel(Normalize(best.normalization), network, target).eval()
    return Run(run_dir, best.model_name, target, model, best.normalization, best.settings, best.data)


def _unsupported(name):
    rebuilt = ", ".join(SUPPORTED)
    why = UNSUPPORTED.get(name, "a model this version of the bridge does not know")
    return f"the PyTorch bridge does not rebuild {name} ({why}); it rebuilds {rebuilt}. Predict with: npx tsx run.ts predict --model RUN_DIR --data CELL"


# ---------------------------------------------------------------------------
# DeepChrome-layout data, read as simplechrome reads it (src/data/deepchrome.ts)


@dataclass
class Cell:
    gene_ids: list
    split: np.ndarray  # uint8, SPLIT_CODES per gene
    labels: np.ndarray  # uint8
    windows: np.ndarray  # float32 [genes, bins, marks], raw counts
    files: list

    def fingerprint(self):
        """src/checkpoint/datasetDigest.ts: SHA-256 of sizes, gene ids, splits, labels and counts as float32."""
        genes, bins, marks = self.windows.shape
        h = hashlib.sha256()
        h.update(f"{genes} {bins} {','.join(MARKS[:marks])}\n".encode())
        h.update("\n".join(self.gene_ids).encode())
        h.update(self.split.tobytes())
        h.update(self.labels.tobytes())
        h.update(self.windows.astype("<f4").tobytes())
        return h.hexdigest()


def _find_csv(base):
    found = [p for p in (base + ".csv", base + ".csv.gz") if os.path.isfile(p)]
    if len(found) == 2:
        _fail(base, f"both {os.path.basename(found[0])} and {os.path.basename(found[1])} exist: remove one so that it is clear which to read")
    return found[0] if found else None


def deepchrome_files(path):
    """The split files of a DeepChrome cell: a prefix P of P.{train,valid,test}.csv[.gz], or a directory holding
    {train,valid,test}.csv[.gz] directly or under classification/."""
    bases = [os.path.join(path, "classification"), path] if os.path.isdir(path) else []
    candidates = [(b, "/") for b in bases] + [(path, ".")]
    for base, sep in candidates:
        files = [_find_csv(base + ("/" if sep == "/" else ".") + s) for s in SPLITS]
        if any(files):
            if not all(files):
                missing = SPLITS[files.index(None)]
                _fail(path, f"missing split file: no {missing}.csv or {missing}.csv.gz beside the others")
            return list(zip(SPLITS, files))
    _fail(path, "no DeepChrome data: looked for P.{train,valid,test}.csv[.gz], {train,valid,test}.csv[.gz] and classification/{train,valid,test}.csv[.gz]")


def read_deepchrome(path):
    """A DeepChrome-layout cell (no header; rows GeneID,BinID,5 counts,label, each gene's bins 1..N in order). Genes
    in file order, train then valid then test; a gene repeated with the same rows is kept once, as simplechrome does."""
    files = deepchrome_files(path)
    ids, split, labels, windows = [], [], [], []
    first = {}
    bins = None
    for split_name, file in files:
        opener = gzip.open if file.endswith(".gz") else open
        with opener(file, "rt", newline="") as f:
            gene, rows, label, start = None, [], None, 0

            def close():
                nonlocal bins
                if gene is None:
                    return
                if bins is None:
                    bins = len(rows)
                if len(rows) != bins:
                    _fail(f"{file}:{start}", f"gene {gene} has {len(rows)} bins, the first gene has {bins}")
                window = np.array(rows, dtype=np.float64).astype(np.float32)
                if gene in first:
                    g = first[gene]
                    if labels[g] != label or not np.array_equal(windows[g], window):
                        _fail(f"{file}:{start}", f"duplicate gene {gene}: its rows differ from its first copy's")
                    return
                first[gene] = len(ids)
                ids.append(gene)
                split.append(SPLIT_CODES[split_name])
                labels.append(label)
                windows.append(window)

            for line_no, row in enumerate(csv.reader(f), start=1):
                if len(row) != 8:
                    _fail(f"{file}:{line_no}", f"expected 8 columns (GeneID,BinID,{','.join(MARKS)},label), found {len(row)}")
                try:
                    g, b, counts, y = row[0].strip(), float(row[1]), [float(v) for v in row[2:7]], float(row[7])
                except ValueError as e:
                    _fail(f"{file}:{line_no}", f"not a number ({e})")
                if y not in (0, 1):
                    _fail(f"{file}:{line_no}", f"label must be 0 or 1, found {row[7]!r}")
                if g != gene or b == 1:
                    close()
                    gene, rows, label, start = g, [], int(y), line_no
                if b != len(rows) + 1:
                    _fail(f"{file}:{line_no}", f"gene {g}: bin {row[1].strip()} where bin {len(rows) + 1} was expected")
                if y != label:
                    _fail(f"{file}:{line_no}", f"gene {g}: label changes from {label} to {y} within the gene")
                rows.append(counts)
            close()
    return Cell(ids, np.array(split, dtype=np.uint8), np.array(labels, dtype=np.uint8), np.stack(windows), [p for _, p in files])


def run_data(run, data=None):
    """The cell to predict: `data` when given, else the data the run recorded, which must be what it trained on."""
    if data is not None:
        return read_deepchrome(data)
    recorded = run.data
    if recorded.get("layout") != "deepchrome":
        _fail(run.directory, f"the run read {recorded.get('layout')}-layout data from {recorded.get('path')}; the bridge reads the DeepChrome layout: pass --data with the cell in that layout")
    cell = read_deepchrome(recorded["path"])
    fingerprint = cell.fingerprint()
    if fingerprint != recorded.get("fingerprint"):
        _fail(
            recorded["path"],
            f"not the data the run trained on (fingerprint {fingerprint}, the run recorded {recorded.get('fingerprint')}): "
            "pass --data to predict this data anyway",
        )
    return cell


def predict(run, cell, all_genes=False):
    """(gene ids, labels, predictions) for the test genes of `cell` (the rows of predictions.csv), or every gene."""
    bins = run.data.get("bins")
    if cell.windows.shape[1] != bins:
        _fail(cell.files[0], f"{cell.windows.shape[1]} bins per gene, the model in {run.directory} was trained on {bins}")
    genes = np.arange(len(cell.gene_ids)) if all_genes else np.flatnonzero(cell.split == SPLIT_CODES["test"])
    with torch.no_grad():
        out = run.model(torch.from_numpy(cell.windows[genes])).to(torch.float64).numpy()
    return [cell.gene_ids[g] for g in genes], cell.labels[genes], out


def main(argv):
    parser = argparse.ArgumentParser(prog="to_pytorch.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", nargs="?", help="a run directory that training wrote with --out")
    parser.add_argument("--data", help="a DeepChrome-layout cell to read instead of the data the run recorded")
    parser.add_argument("--all-genes", action="store_true", help="every gene, not only the test genes")
    parser.add_argument("--out", help="write the CSV here (never over an existing file) instead of stdout")
    parser.add_argument("--float64", action="store_true", help="compute in float64 (the run computed in float32)")
    parser.add_argument("--supported", action="store_true", help="print the models rebuilt (with the input each reads) and those not (with why), as JSON")
    args = parser.parse_args(argv)
    if args.supported:
        print(json.dumps({"supported": SUPPORTED, "unsupported": UNSUPPORTED}))
        return 0
    if args.run_dir is None:
        parser.error("give a run directory")
    if args.out is not None and os.path.exists(args.out):
        _fail(args.out, "exists: the bridge never overwrites a file; choose another --out or remove it")
    run = load_run(args.run_dir, torch.float64 if args.float64 else torch.float32)
    ids, labels, out = predict(run, run_data(run, args.data), args.all_genes)
    header = "gene_id,label,probability" if run.target == "class" else "gene_id,label,predicted_log10_rpkm_plus1"
    lines = [header] + [f"{g},{y},{v:.9g}" for g, y, v in zip(ids, labels, out)]
    text = "\n".join(lines) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        with open(args.out, "x") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BridgeError as e:
        print(f"to_pytorch.py: {e}", file=sys.stderr)
        sys.exit(1)
