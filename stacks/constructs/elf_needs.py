"""What a compiled file in a wheel needs from the system: the ELF dynamic section, read with ``struct``.

A wheel downloaded for the training image can still fail there: its shared objects name the libraries
the dynamic loader must find (``DT_NEEDED``), and a manylinux tag does not promise that the image has
them (LightGBM's wheel needs the system's ``libgomp.so.1``). Reading them at synth turns that failure of
the job into a failure of the build. The loader's view is read, as ``readelf -d`` shows it: the program
headers' ``PT_DYNAMIC`` segment, its ``DT_NEEDED`` and ``DT_SONAME`` entries, and the strings they point
to in ``DT_STRTAB`` (a virtual address, mapped to the file through the ``PT_LOAD`` segments). Standard
library only: no readelf (binutils) on the machine that synthesizes, and no third-party parser.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ELF_MAGIC = b"\x7fELF"
_ELFCLASS64 = 2
_ELFDATA2LSB = 1
EM_X86_64 = 62
_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")  # Elf64_Ehdr
_PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")  # Elf64_Phdr
_DYNAMIC_ENTRY = struct.Struct("<qQ")  # Elf64_Dyn
_PT_LOAD, _PT_DYNAMIC = 1, 2
_DT_NULL, _DT_NEEDED, _DT_STRTAB, _DT_SONAME = 0, 1, 5, 14


class ElfError(ValueError):
    """A file that starts as ELF but cannot be read as an x86_64 ELF object."""


@dataclass(frozen=True)
class ElfLinks:
    """What one ELF file says to the dynamic loader.

    Attributes
    ----------
    soname
        The name it is found by (``DT_SONAME``), None when it has none (an executable, most modules).
    needed
        The libraries it needs (``DT_NEEDED``), in the file's order; empty for a static file.
    """

    soname: str | None
    needed: tuple[str, ...]


@dataclass(frozen=True)
class UnmetNeed:
    """A library that a file of a shipped wheel needs and that neither the image nor any wheel has.

    Attributes
    ----------
    wheel
        How the wheel is named to a person (``"lightgbm 4.7.0 (team)"``).
    member
        The file in the wheel (``"lightgbm/lib/lib_lightgbm.so"``).
    library
        What it needs (``"libgomp.so.1"``), or, for a file that cannot be read, why.
    readable
        False when the file starts as ELF but cannot be read as an x86_64 one (``library`` says why).
    """

    wheel: str
    member: str
    library: str
    readable: bool = True


def unmet_needs(wheels: Mapping[str, Path], system_libraries: frozenset[str]) -> list[UnmetNeed]:
    """The libraries the ELF files of ``wheels`` need that nothing the image will hold provides.

    A need is met by a library of the image (``system_libraries``, by soname), or by an ELF file that
    one of ``wheels`` carries, by its file name or its soname: auditwheel copies a wheel's own libraries
    into ``<package>.libs/`` under a hashed name and points the extension's ``DT_NEEDED`` at it. A file
    is ELF by its first bytes, not by its name: a file named ``.so`` that is not ELF (a linker script, a
    placeholder) is nothing the dynamic loader can load, so it needs nothing and is passed over.

    Parameters
    ----------
    wheels
        Each shipped wheel, by how a person names it, to its file.
    system_libraries
        The sonames of the libraries the image has (``training/container.toml``).

    Returns
    -------
    list of UnmetNeed
        Each unmet need (and each ELF file that cannot be read), wheel by wheel in the order given.
    """
    links: dict[tuple[str, str], ElfLinks] = {}
    unreadable: list[UnmetNeed] = []
    for label, path in wheels.items():
        for member, data in _elf_members(path):
            try:
                links[(label, member)] = dynamic_links(data)
            except ElfError as error:
                unreadable.append(UnmetNeed(label, member, str(error), readable=False))
    carried = {PurePosixPath(member).name for _, member in links}
    carried |= {link.soname for link in links.values() if link.soname is not None}
    unmet = [
        UnmetNeed(label, member, library)
        for (label, member), link in links.items()
        for library in link.needed
        if library not in system_libraries and library not in carried
    ]
    return unreadable + unmet


def _elf_members(wheel: Path) -> Iterator[tuple[str, bytes]]:
    """The ELF files of a wheel (a zip), whole; the others are only opened for their first bytes."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            with archive.open(info) as member:
                if is_elf(member.read(len(ELF_MAGIC))):
                    yield info.filename, ELF_MAGIC + member.read()


def is_elf(head: bytes) -> bool:
    """Whether a file that starts with ``head`` (4 bytes are enough) is an ELF file."""
    return head[:4] == ELF_MAGIC


def dynamic_links(data: bytes) -> ElfLinks:
    """The ``DT_SONAME`` and ``DT_NEEDED`` entries of an x86_64 ELF file.

    Parameters
    ----------
    data
        The whole file (an ELF file, ``is_elf``).

    Returns
    -------
    ElfLinks
        Its soname and needed libraries; none of either when it has no dynamic segment.

    Raises
    ------
    ElfError
        It is not a 64-bit little-endian x86_64 file, or it is cut short; the message says which.
    """
    if len(data) < _HEADER.size or not is_elf(data):
        raise ElfError("is not an ELF file, or is cut short before the end of its header")
    ident, _, machine, _, _, phoff, _, _, _, phentsize, phnum, _, _, _ = _HEADER.unpack_from(data)
    if ident[4] != _ELFCLASS64 or ident[5] != _ELFDATA2LSB or machine != EM_X86_64:
        raise ElfError(
            f"is built for another machine than x86_64 (ELF class {ident[4]}, e_machine {machine})"
        )
    segments = [_unpack(_PROGRAM_HEADER, data, phoff + index * phentsize) for index in range(phnum)]
    loads = [(vaddr, offset, size) for kind, _, offset, vaddr, _, size, _, _ in segments if kind == _PT_LOAD]
    dynamic = next(
        ((offset, size) for kind, _, offset, _, _, size, _, _ in segments if kind == _PT_DYNAMIC), None
    )
    if dynamic is None:
        return ElfLinks(soname=None, needed=())  # linked statically: it needs nothing from the loader
    entries: list[tuple[int, int]] = []
    for position in range(dynamic[0], dynamic[0] + dynamic[1], _DYNAMIC_ENTRY.size):
        tag, value = _unpack(_DYNAMIC_ENTRY, data, position)
        if tag == _DT_NULL:
            break
        entries.append((tag, value))
    strtab = next((value for tag, value in entries if tag == _DT_STRTAB), None)
    names = [value for tag, value in entries if tag in (_DT_NEEDED, _DT_SONAME)]
    if strtab is None:
        if names:
            raise ElfError("names libraries but has no string table (DT_STRTAB) to spell them")
        return ElfLinks(soname=None, needed=())
    table = _file_offset(strtab, loads)
    soname = next((_string(data, table + value) for tag, value in entries if tag == _DT_SONAME), None)
    needed = tuple(_string(data, table + value) for tag, value in entries if tag == _DT_NEEDED)
    return ElfLinks(soname=soname, needed=needed)


def _unpack(layout: struct.Struct, data: bytes, offset: int) -> tuple[int, ...]:
    if offset < 0 or offset + layout.size > len(data):
        raise ElfError(f"is cut short: a header at byte {offset} runs past its end ({len(data)} bytes)")
    return layout.unpack_from(data, offset)


def _file_offset(address: int, loads: list[tuple[int, int, int]]) -> int:
    """Where the loaded segment that holds virtual ``address`` keeps it in the file."""
    for vaddr, offset, size in loads:
        if vaddr <= address < vaddr + size:
            return offset + (address - vaddr)
    raise ElfError(f"has its string table at address {address:#x}, which no loaded segment holds")


def _string(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    if offset >= len(data) or end < 0:
        raise ElfError(f"has a name at byte {offset} that runs past the end of the file")
    return data[offset:end].decode("utf-8", errors="replace")
