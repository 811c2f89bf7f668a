"""A safetensors file read with the Python standard library only, written from the published layout (no safetensors
or torch package): 8-byte little-endian header length N, N bytes of JSON header, then the raw little-endian tensor
bytes. Checks what the format promises (offsets inside the data, sizes that match dtype x shape, no holes, no
overlaps, nothing after the last tensor) and works out simplechrome's checksum (__metadata__.sha256 = SHA-256 of the
file with those 64 hex digits written as '0').

Used by scripts/to_pytorch.py (the PyTorch bridge) and test/fixtures/read_safetensors.py (the independent check of
the files simplechrome writes).
"""
import hashlib
import json
import math
import struct
from dataclasses import dataclass

SIZES = {"F32": 4, "U8": 1, "U32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4}
CHECKSUM_KEY = "sha256"


class SafetensorsError(Exception):
    """A file that is not a well-formed safetensors file; the message names the file and the problem."""

    def __init__(self, path, what):
        super().__init__(f"{path}: {what}")


@dataclass
class Tensor:
    dtype: str
    shape: list
    begin: int  # data offsets, relative to the end of the header
    end: int

    @property
    def count(self):
        return math.prod(self.shape)


@dataclass
class SafetensorsFile:
    header_length: int
    tensors: dict  # name -> Tensor, in header order
    metadata: dict  # str -> str
    data: memoryview  # the bytes after the header
    stored_checksum: str | None  # metadata "sha256", when there is one
    computed_checksum: str | None

    def bytes_of(self, name):
        t = self.tensors[name]
        return self.data[t.begin : t.end]


def read_safetensors(path):
    """Reads and checks `path`; raises SafetensorsError on the first problem. A checksum that does not match is not an
    error here: the caller compares stored_checksum with computed_checksum."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except FileNotFoundError:
        raise SafetensorsError(path, "no such file") from None
    except OSError as e:
        raise SafetensorsError(path, f"cannot be read ({e.strerror})") from None
    if len(blob) < 8:
        raise SafetensorsError(path, "shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise SafetensorsError(path, f"truncated: the header of {n} bytes runs past the end of the file ({len(blob)} bytes)")
    header_bytes = blob[8 : 8 + n]
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(path, f"the header is not JSON ({e})") from None
    meta = header.pop("__metadata__", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise SafetensorsError(path, "__metadata__ must map strings to strings")
    data = memoryview(blob)[8 + n :]

    tensors = {}
    for name, entry in header.items():
        dtype, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in SIZES:
            raise SafetensorsError(path, f'tensor "{name}": unknown dtype {dtype}')
        t = Tensor(dtype, shape, begin, end)
        if end - begin != t.count * SIZES[dtype]:
            raise SafetensorsError(path, f'tensor "{name}": {end - begin} bytes for {t.count} x {dtype}')
        if end > len(data):
            raise SafetensorsError(path, f'truncated: tensor "{name}" ends at data byte {end}, the file holds {len(data)} bytes of data')
        tensors[name] = t
    at = 0
    for begin, name in sorted((t.begin, name) for name, t in tensors.items()):
        if begin != at:
            raise SafetensorsError(path, f'tensor "{name}" starts at data byte {begin}, expected {at} (hole or overlap)')
        at = tensors[name].end
    if at != len(data):
        raise SafetensorsError(path, f"{len(data) - at} data bytes belong to no tensor")

    stored = meta.get(CHECKSUM_KEY)
    computed = None
    if stored is not None:
        needle = f'"{CHECKSUM_KEY}":"{stored}"'.encode("ascii")
        where = header_bytes.rfind(needle)
        if where < 0:
            raise SafetensorsError(path, f"{CHECKSUM_KEY} not found in the header bytes")
        start = 8 + where + len(needle) - len(stored) - 1
        computed = hashlib.sha256(blob[:start] + b"0" * 64 + blob[start + 64 :]).hexdigest()
    return SafetensorsFile(n, tensors, meta, data, stored, computed)
