"""Tiny ELF files and wheels holding them, made with ``struct`` and ``zipfile``: no compiler, no network.

An ELF file here is what the dynamic loader reads and no more: the 64-byte header, two program headers
(``PT_LOAD`` mapping the whole file at a non-zero address, ``PT_DYNAMIC``), the dynamic entries and the
string table they point into by virtual address.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path

_BASE = 0x400000  # a loaded address other than the file offset, so that the mapping is exercised
_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
_PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
_DYNAMIC_ENTRY = struct.Struct("<qQ")


def elf_file(
    needed: tuple[str, ...] = (), soname: str | None = None, *, machine: int = 62, elf_class: int = 2
) -> bytes:
    """An x86_64 shared object (by default) that needs ``needed`` and is called ``soname``."""
    strings = b"\0"
    offsets: dict[str, int] = {}
    for name in (*needed, *([soname] if soname else [])):
        offsets[name] = len(strings)
        strings += name.encode() + b"\0"
    entries = [(1, offsets[name]) for name in needed] + ([(14, offsets[soname])] if soname else [])
    dynamic_offset = _HEADER.size + 2 * _PROGRAM_HEADER.size
    strtab_offset = dynamic_offset + (len(entries) + 2) * _DYNAMIC_ENTRY.size
    entries += [(5, _BASE + strtab_offset), (0, 0)]
    dynamic = b"".join(_DYNAMIC_ENTRY.pack(tag, value) for tag, value in entries)
    size = strtab_offset + len(strings)
    ident = b"\x7fELF" + bytes([elf_class, 1, 1]) + bytes(9)
    header = _HEADER.pack(
        ident, 3, machine, 1, 0, _HEADER.size, 0, 0, _HEADER.size, _PROGRAM_HEADER.size, 2, 0, 0, 0
    )
    load = _PROGRAM_HEADER.pack(1, 5, 0, _BASE, _BASE, size, size, 0x1000)
    dynamic_header = _PROGRAM_HEADER.pack(
        2, 6, dynamic_offset, _BASE + dynamic_offset, _BASE + dynamic_offset, len(dynamic), len(dynamic), 8
    )
    return header + load + dynamic_header + dynamic + strings


def static_elf_file() -> bytes:
    """An x86_64 executable with no dynamic segment: linked statically."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = _HEADER.pack(
        ident, 2, 62, 1, 0, _HEADER.size, 0, 0, _HEADER.size, _PROGRAM_HEADER.size, 1, 0, 0, 0
    )
    return header + _PROGRAM_HEADER.pack(1, 5, 0, _BASE, _BASE, 120, 120, 0x1000)


def wheel_file(folder: Path, name: str, version: str, files: Mapping[str, bytes], tag: str) -> Path:
    """A wheel of ``files`` (path in the wheel to content), with the metadata pip needs to install it."""
    stem = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{stem}-{tag}.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for member, content in files.items():
            wheel.writestr(member, content)
        wheel.writestr(
            f"{stem}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        wheel.writestr(f"{stem}.dist-info/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n")
        wheel.writestr(f"{stem}.dist-info/RECORD", "")
    return path
