"""Mean mark attention and where bin attention sits, from explain's attributions file of an attention model.

usage: python3 attention_summary.py DIR/E003-integrated-gradients.attributions.safetensors
Prints, for expressed and silent genes: each mark's mean mark-level attention (uniform = 1/marks), and
each mark's share of bin-level attention within the central tenth of the window (uniform = 0.10), and for
H3K4me3 the bin where its mean bin attention is lowest and highest (bin 50 is the TSS on DeepChrome's window).
"""
import json
import struct
import sys

import numpy as np


def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n

    def read(name):
        e = header[name]
        dtype = {"F32": np.float32, "U8": np.uint8}[e["dtype"]]
        start, end = e["data_offsets"]
        return np.frombuffer(raw[base + start : base + end], dtype=dtype).reshape(e["shape"])

    return header["__metadata__"], read


meta, read = tensors(sys.argv[1])
marks = json.loads(meta["marks"])
mark_attention, bin_attention, label = read("mark_attention"), read("bin_attention"), read("label")
bins = bin_attention.shape[1]
centre = slice(bins // 2 - bins // 20, bins // 2 + bins // 20)
k4 = marks.index("H3K4me3")
for value, group in ((1, "expressed"), (0, "silent")):
    genes = label == value
    print(f"{group} ({int(genes.sum())} genes)")
    print("  mark attention: " + ", ".join(f"{m} {a:.3f}" for m, a in zip(marks, mark_attention[genes].mean(0))))
    mean_bins = bin_attention[genes].mean(0)
    print("  bin attention in the central tenth: " + ", ".join(f"{m} {s:.3f}" for m, s in zip(marks, mean_bins[centre].sum(0))))
    b = mean_bins[:, k4]
    print(f"  H3K4me3 bin attention: lowest {b.min():.4f} at bin {b.argmin()}, highest {b.max():.4f} at bin {b.argmax()}")
