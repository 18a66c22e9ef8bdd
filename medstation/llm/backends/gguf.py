"""Read the key/value header of a GGUF model file without loading the model.

GGUF layout (little-endian): ``b"GGUF"`` magic, ``uint32`` version, then tensor
count and key/value count (``uint64`` from version 2, ``uint32`` in version 1),
then that many typed key/values. A key is a GGUF string (length + UTF-8 bytes);
a value is a ``uint32`` type tag followed by the value. Arrays carry an element
type and a count. Tensor descriptors follow (read only to check that the file is not cut off before its
last tensor: a truncated download), then the weights, which we never read.

Listing a 100 MB - 10 GB model must stay instant, so big arrays (the tokenizer's
50k-150k token strings) are skipped, not kept: only their length is recorded.
Everything read from the file is bounds-checked, because a truncated download
or a renamed non-model file must give a clear :class:`GGUFError`, not a crash.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medstation.errors import UserFacingError

GGUF_MAGIC = b"GGUF"

# Value type tags of the GGUF spec -> struct format of one scalar.
_SCALAR_FORMATS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}
_STRING, _ARRAY = 8, 9
# Arrays longer than this are skipped (only their length is kept): token lists, merges, scores.
MAX_KEPT_ARRAY = 64
# No legitimate key or metadata string is anywhere near this; a larger length means a corrupt file.
_MAX_STRING_BYTES = 64 * 1024 * 1024
_MAX_KV_COUNT = 1_000_000

# llama.cpp's ``general.file_type`` enum (LLAMA_FTYPE_*): the quantisation most tensors use.
FILE_TYPE_NAMES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
}


class GGUFError(UserFacingError, ValueError):
    """The file is not a readable GGUF model (wrong magic, truncated, corrupt header)."""


@dataclass(frozen=True)
class SkippedArray:
    """Stands in for an array too long to keep: its element type tag and length."""

    element_type: int
    length: int


@dataclass(frozen=True)
class GGUFHeader:
    """The parsed header. ``metadata`` maps each key to a scalar, string, short list or :class:`SkippedArray`."""

    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", "")) or self.path.stem

    @property
    def context_length(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.context_length")
        return int(value) if isinstance(value, int) else None

    @property
    def chat_template(self) -> str:
        return str(self.metadata.get("tokenizer.chat_template", ""))

    @property
    def quantization(self) -> str:
        file_type = self.metadata.get("general.file_type")
        if isinstance(file_type, int):
            return FILE_TYPE_NAMES.get(file_type, f"type {file_type}")
        return "unknown"


class _Reader:
    """Bounds-checked little-endian reads from a memory-mapped file (fast skipping of token lists)."""

    def __init__(self, buffer, size: int) -> None:
        self.buffer = buffer
        self.size = size
        self.offset = 0

    def take(self, n: int) -> bytes:
        if self.offset + n > self.size:
            raise GGUFError(f"file ends early (wanted {n} bytes at offset {self.offset})")
        data = self.buffer[self.offset:self.offset + n]
        self.offset += n
        return data

    def skip(self, n: int) -> None:
        if self.offset + n > self.size:
            raise GGUFError(f"file ends early (skipping {n} bytes at offset {self.offset})")
        self.offset += n

    def scalar(self, fmt: str):
        width = struct.calcsize(fmt)
        if self.offset + width > self.size:
            raise GGUFError(f"file ends early (wanted {width} bytes at offset {self.offset})")
        value = struct.unpack_from(fmt, self.buffer, self.offset)[0]
        self.offset += width
        return value

    def string_length(self) -> int:
        length = self.scalar("<Q")
        if length > _MAX_STRING_BYTES:
            raise GGUFError(f"string length {length} is implausible: corrupt header")
        return length

    def string(self) -> str:
        return self.take(self.string_length()).decode("utf-8", errors="replace")

    def value(self, type_tag: int) -> Any:
        if type_tag in _SCALAR_FORMATS:
            return self.scalar(_SCALAR_FORMATS[type_tag])
        if type_tag == _STRING:
            return self.string()
        if type_tag == _ARRAY:
            return self.array()
        raise GGUFError(f"unknown value type {type_tag}: corrupt header")

    def array(self) -> list | SkippedArray:
        element_type = self.scalar("<I")
        length = self.scalar("<Q")
        if length > MAX_KEPT_ARRAY:
            self.skip_array(element_type, length)
            return SkippedArray(element_type, length)
        return [self.value(element_type) for _ in range(length)]

    def skip_array(self, element_type: int, length: int) -> None:
        if element_type in _SCALAR_FORMATS:
            self.skip(struct.calcsize(_SCALAR_FORMATS[element_type]) * length)
        elif element_type == _STRING:
            # Hot loop (~50k-150k tokens per model): inlined, no per-item method calls.
            offset, size, buffer, unpack = self.offset, self.size, self.buffer, struct.unpack_from
            for _ in range(length):
                if offset + 8 > size:
                    raise GGUFError(f"file ends early (string length at offset {offset})")
                offset += 8 + unpack("<Q", buffer, offset)[0]
            if offset > size:
                raise GGUFError(f"file ends early (string array ends past offset {size})")
            self.offset = offset
        elif element_type == _ARRAY:
            for _ in range(length):
                self.array()
        else:
            raise GGUFError(f"unknown array element type {element_type}: corrupt header")


def read_gguf_header(path: str | Path) -> GGUFHeader:
    """Parse the key/values of ``path``. Raises :class:`GGUFError` with a plain reason on any defect."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size < 4 or stream.read(4) != GGUF_MAGIC:
                stream.seek(0)
                raise GGUFError(f"{path.name} is not a GGUF model (starts with {stream.read(4)!r}, expected b'GGUF')")
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
                return _parse(path, _Reader(buffer, size))
    except OSError as exc:
        raise GGUFError(f"cannot open {path.name}: {exc.strerror or exc}") from exc


def _parse(path: Path, reader: _Reader) -> GGUFHeader:
    reader.offset = 4
    version = reader.scalar("<I")
    if version not in (1, 2, 3):
        raise GGUFError(f"{path.name}: unsupported GGUF version {version}")
    count_format = "<I" if version == 1 else "<Q"
    tensor_count = reader.scalar(count_format)
    kv_count = reader.scalar(count_format)
    if kv_count > _MAX_KV_COUNT:
        raise GGUFError(f"{path.name}: {kv_count} metadata keys is implausible: corrupt header")
    metadata: dict[str, Any] = {}
    try:
        for _ in range(kv_count):
            key = reader.string()
            metadata[key] = reader.value(reader.scalar("<I"))
    except GGUFError as exc:
        raise GGUFError(f"{path.name}: {exc}") from exc
    if tensor_count:
        _check_tensor_data(path, reader, version, tensor_count, metadata)
    return GGUFHeader(path=path, version=version, tensor_count=tensor_count, metadata=metadata)


def _check_tensor_data(path: Path, reader: _Reader, version: int, tensor_count: int, metadata: dict) -> None:
    """Raise :class:`GGUFError` when the file ends before its last tensor's data begins: a truncated download.

    Tensor descriptors follow the key/values: name, ``uint32`` dimension count, the dimensions (``uint64``,
    ``uint32`` in version 1), ``uint32`` type, ``uint64`` offset into the data, which starts at the next multiple
    of ``general.alignment`` (32 by default). Sizes per type are not needed: a file shorter than the start of
    its last tensor is cut off (one cut inside the last tensor is left to llama.cpp to report)."""
    dim_format = "<I" if version == 1 else "<Q"
    dim_width = struct.calcsize(dim_format)
    last_offset = 0
    try:
        for _ in range(tensor_count):
            reader.skip(reader.string_length())
            n_dims = reader.scalar("<I")
            if n_dims > 8:
                raise GGUFError(f"a tensor with {n_dims} dimensions is implausible: corrupt header")
            reader.skip(n_dims * dim_width)
            reader.skip(4)  # type
            last_offset = max(last_offset, reader.scalar("<Q"))
    except GGUFError as exc:
        raise GGUFError(f"{path.name} is truncated or corrupt (tensor list: {exc})") from exc
    alignment = metadata.get("general.alignment", 32)
    alignment = alignment if isinstance(alignment, int) and alignment > 0 else 32
    data_start = -(-reader.offset // alignment) * alignment
    if reader.size <= data_start + last_offset:
        raise GGUFError(f"{path.name} is truncated: it ends at {reader.size / 1e6:.1f} MB, before its tensors "
                        f"(at least {(data_start + last_offset) / 1e6:.1f} MB); download it again")


def has_gguf_magic(path: str | Path) -> bool:
    """True when the file starts with the GGUF magic (a cheap check before handing it to llama.cpp)."""
    try:
        with Path(path).open("rb") as stream:
            return stream.read(4) == GGUF_MAGIC
    except OSError:
        return False
