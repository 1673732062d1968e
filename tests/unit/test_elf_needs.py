"""What shipped wheels' compiled files need (``stacks.constructs.elf_needs``), on ELF files made here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stacks.constructs.elf_needs import ElfError, ElfLinks, UnmetNeed, dynamic_links, unmet_needs
from tests.elf_support import elf_file, static_elf_file, wheel_file

TAG = "py3-none-manylinux_2_28_x86_64"
IMAGE_LIBRARIES = frozenset({"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1"})


def test_the_needed_libraries_and_the_soname_are_read_in_the_files_order() -> None:
    # Given a shared object that needs three libraries and names itself
    data = elf_file(("libstdc++.so.6", "libgomp.so.1", "libc.so.6"), soname="lib_booster.so")

    # When its dynamic section is read
    links = dynamic_links(data)

    # Then both come back as the loader reads them
    assert links == ElfLinks(soname="lib_booster.so", needed=("libstdc++.so.6", "libgomp.so.1", "libc.so.6"))


def test_a_file_without_a_dynamic_segment_needs_nothing() -> None:
    assert dynamic_links(static_elf_file()) == ElfLinks(soname=None, needed=())


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (elf_file(("libc.so.6",), elf_class=1), "another machine than x86_64 (ELF class 1"),
        (elf_file(("libc.so.6",), machine=183), "another machine than x86_64 (ELF class 2, e_machine 183)"),
        (elf_file(("libc.so.6",))[:100], "is cut short"),
        (b"\x7fELF\x02", "cut short before the end of its header"),
    ],
    ids=["32-bit", "aarch64", "truncated-headers", "truncated-ident"],
)
def test_an_elf_file_that_is_not_x86_64_or_is_cut_short_is_refused_saying_which(
    data: bytes, said: str
) -> None:
    with pytest.raises(ElfError, match=re.escape(said)):
        dynamic_links(data)


def test_a_library_the_wheel_carries_meets_the_need_by_file_name_or_soname(tmp_path: Path) -> None:
    # Given a wheel whose module needs its own copies, as auditwheel leaves them: one found by its file
    # name, one by its soname only
    wheel = wheel_file(
        tmp_path,
        "booster",
        "3.4.1",
        {
            "booster/lib/libbooster.so": elf_file(("libgomp-e985bcbb.so.1.0.0", "libquad.so.0", "libc.so.6")),
            "booster.libs/libgomp-e985bcbb.so.1.0.0": elf_file(("libc.so.6",), "libgomp-e985bcbb.so.1.0.0"),
            "booster.libs/libquad-1a2b3c4d.so.0.0.0": elf_file(("libm.so.6",), soname="libquad.so.0"),
        },
        TAG,
    )

    # When its needs are checked against the image
    # Then every need is met
    assert unmet_needs({"booster 3.4.1 (team)": wheel}, IMAGE_LIBRARIES) == []


def test_a_library_another_shipped_wheel_carries_meets_the_need(tmp_path: Path) -> None:
    # Given a team wheel that needs a library which a wheel of its dependency carries
    runtime = wheel_file(
        tmp_path, "omp-runtime", "1.0.0", {"omp_runtime/libomp.so.5": elf_file((), "libomp.so.5")}, TAG
    )
    team = wheel_file(tmp_path, "booster", "3.4.1", {"booster/_core.so": elf_file(("libomp.so.5",))}, TAG)

    # When both are checked
    # Then nothing is missing; checked alone, the team wheel misses it
    assert unmet_needs({"booster": team, "omp-runtime": runtime}, IMAGE_LIBRARIES) == []
    assert unmet_needs({"booster": team}, IMAGE_LIBRARIES) == [
        UnmetNeed("booster", "booster/_core.so", "libomp.so.5")
    ]


def test_a_library_that_neither_the_image_nor_a_wheel_has_is_named_with_its_wheel_and_member(
    tmp_path: Path,
) -> None:
    # Given LightGBM's case: a module that needs the system's OpenMP runtime and carries none
    wheel = wheel_file(
        tmp_path,
        "lightgbm",
        "4.7.0",
        {
            "lightgbm/lib/lib_lightgbm.so": elf_file(
                ("libstdc++.so.6", "libgomp.so.1", "libc.so.6"), "lib_lightgbm.so"
            )
        },
        TAG,
    )

    # When its needs are checked against an image without it
    unmet = unmet_needs({"lightgbm 4.7.0 (team)": wheel}, IMAGE_LIBRARIES)

    # Then exactly that need is reported, naming the wheel, the file and the library
    assert unmet == [UnmetNeed("lightgbm 4.7.0 (team)", "lightgbm/lib/lib_lightgbm.so", "libgomp.so.1")]
    # And once the image has the library, nothing is
    assert unmet_needs({"lightgbm 4.7.0 (team)": wheel}, IMAGE_LIBRARIES | {"libgomp.so.1"}) == []


def test_files_are_elf_by_their_content_not_their_name(tmp_path: Path) -> None:
    # Given a wheel with a linker script named .so (not loadable: it needs nothing), and a compiled
    # executable without the .so name (loaded all the same when run)
    wheel = wheel_file(
        tmp_path,
        "tools",
        "1.0.0",
        {
            "tools/libtools.so": b"/* GNU ld script */\nINPUT(libtools.so.1 -lmissing)\n",
            "tools/bin/helper": elf_file(("libmissing.so.2", "libc.so.6")),
            "tools/__init__.py": b"",
        },
        TAG,
    )

    # When its needs are checked
    # Then the script is passed over and the executable's missing library is named
    assert unmet_needs({"tools": wheel}, IMAGE_LIBRARIES) == [
        UnmetNeed("tools", "tools/bin/helper", "libmissing.so.2")
    ]


def test_an_unreadable_elf_file_in_a_wheel_is_reported_not_passed_over(tmp_path: Path) -> None:
    # Given a wheel tagged x86_64 holding an aarch64 module
    wheel = wheel_file(tmp_path, "odd", "1.0.0", {"odd/_core.so": elf_file(("libc.so.6",), machine=183)}, TAG)

    # When its needs are checked
    [unmet] = unmet_needs({"odd 1.0.0 (team)": wheel}, IMAGE_LIBRARIES)

    # Then the file is named with why it cannot be read
    assert (unmet.wheel, unmet.member, unmet.readable) == ("odd 1.0.0 (team)", "odd/_core.so", False)
    assert "another machine than x86_64" in unmet.library
