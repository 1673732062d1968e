"""The champion channel's "no champion" marker: the first model of a dataset has nothing to beat."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pyarrow as pa
import pytest

from training.mlops_training.champion import has_champion, score_champion
from training.mlops_training.contract_io import Signature


def test_a_channel_holding_only_the_marker_means_no_champion_not_an_unscorable_one(tmp_path: Path) -> None:
    (tmp_path / "none.json").write_text(json.dumps({"champion": None, "reason": "no approved version"}))
    fallback = Signature.from_dict({"task": "classification", "target": {"name": "y", "type": "boolean"},
                                    "features": []})  # fmt: skip

    output, record = score_champion(tmp_path, pa.table({"y": [True]}), fallback)

    assert output is None and record is None


def test_a_model_next_to_the_marker_is_a_champion(tmp_path: Path) -> None:
    (tmp_path / "none.json").write_text("{}")
    assert not has_champion(tmp_path)
    (tmp_path / "model.tar.gz").write_bytes(b"")
    assert has_champion(tmp_path)


@pytest.mark.parametrize("member", ["../outside.txt", "model/../../outside.txt", "link"])
def test_an_archive_member_that_would_land_outside_its_folder_makes_the_champion_unscorable(
    tmp_path: Path, member: str
) -> None:
    channel = tmp_path / "champion"
    channel.mkdir()
    with tarfile.open(channel / "model.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo(member)
        if member == "link":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
        else:
            info.size = 2
            archive.addfile(info, io.BytesIO(b"hi"))
    fallback = Signature.from_dict({"task": "classification", "target": {"name": "y", "type": "boolean"},
                                    "features": []})  # fmt: skip

    output, record = score_champion(channel, pa.table({"y": [True]}), fallback)

    assert output is None
    assert record == {
        "status": "unscorable",
        "reason": "TrainingInputError: the champion archive model.tar.gz has a member that would land "
        f"outside its folder or is not a plain file or folder: {member!r}",
    }
    assert not (tmp_path / "outside.txt").exists()
