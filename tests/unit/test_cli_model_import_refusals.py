"""``mlops models import`` refuses a file that is not a skops archive before it reaches the platform."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from urllib.parse import unquote

import joblib
import pytest
from typer.testing import CliRunner

from adapters.model_imports import MAX_METADATA_BYTES, upload_metadata
from cli import model_import
from cli.main import app
from cli.target import Cloud
from spec.model_file import skops_file_problem


class Estimator:
    """Something a team fitted elsewhere (a plain object: what matters is how it was saved)."""

    def __init__(self) -> None:
        self.coef_ = [0.5, -1.25]


@pytest.fixture
def platform_asked(monkeypatch: pytest.MonkeyPatch) -> list[Cloud]:
    """Where the command would go: recorded, and no further (a refusal must come before it)."""
    asked: list[Cloud] = []

    def platform(cloud: Cloud) -> None:
        asked.append(cloud)
        raise SystemExit("the platform was reached")

    monkeypatch.setattr(model_import, "platform", platform)
    return asked


def _pickled(path: Path) -> Path:
    path.write_bytes(pickle.dumps(Estimator()))
    return path


def _joblib(path: Path, compress: object = 0) -> Path:
    joblib.dump({"model": [1.0, 2.0]}, path, compress=compress)
    return path


def _written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _zip_without_schema(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", "{}")
    return path


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (
            lambda d: _pickled(d / "model.pkl"),
            "model.pkl is a pickle (what pickle.dump and joblib.dump write)",
        ),
        (lambda d: _joblib(d / "model.joblib"), "model.joblib is a pickle"),
        (
            lambda d: _joblib(d / "model.joblib", 3),
            "model.joblib is zlib-compressed, as joblib.dump(..., compress",
        ),
        (lambda d: _joblib(d / "m.joblib", ("gzip", 3)), "m.joblib is gzip-compressed"),
        (lambda d: _joblib(d / "m.joblib", ("xz", 3)), "m.joblib is xz-compressed"),
        (
            lambda d: _zip_without_schema(d / "model.skops"),
            "model.skops is a zip archive without schema.json",
        ),
        (lambda d: _written(d / "empty.skops", b""), "empty.skops is empty"),
        (
            lambda d: _written(d / "notes.txt", b"weights: 0.5"),
            "notes.txt is not a skops file",
        ),
    ],
)
def test_a_file_that_is_not_a_skops_archive_is_refused_before_the_platform_is_reached(
    tmp_path: Path, platform_asked: list[Cloud], make: object, said: str
) -> None:
    # Given a model saved some other way than skops.io.dump
    file = make(tmp_path)  # type: ignore[operator]

    # When it is imported
    result = CliRunner().invoke(app, ["models", "import", str(file), "--dataset", "churn"])

    # Then the command says what the file is and how to save a skops file, and went nowhere
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split())
    assert 'save the estimator with skops.io.dump(estimator, "model.skops")' in " ".join(
        result.output.split()
    )
    assert platform_asked == []


def test_a_skops_file_passes_the_check(tmp_path: Path) -> None:
    # Given an estimator saved with skops
    import skops.io
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [0.5, 0.2], [0.1, 0.9]], [0, 1, 1, 0])
    skops.io.dump(model, tmp_path / "churn.skops")

    # Then nothing keeps it from being imported
    assert skops_file_problem(tmp_path / "churn.skops", "churn.skops") is None


def test_a_zip_whose_schema_is_not_a_json_object_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "m.skops", "w") as archive:
        archive.writestr("schema.json", "[1, 2]")

    assert "m.skops's schema.json is not a skops schema" in (
        skops_file_problem(tmp_path / "m.skops", "m.skops") or ""
    )


def test_the_upload_s_metadata_stays_within_s3_s_2_kb_in_us_ascii() -> None:
    # Given a long reason in several scripts, a name with spaces and accents, and a long caller
    caller = "arn:aws:sts::123456789012:assumed-role/" + "r" * 64 + "/" + "s" * 64
    reason = "réentraîné sur le lac de données; 再訓練 " * 60

    metadata = upload_metadata(caller, "modèle churn (v2).skops", reason)

    # Then every value is ASCII, the whole fits, the caller and name are whole and the reason's start kept
    assert all(value.isascii() for value in metadata.values())
    assert sum(len(k) + len(v) for k, v in metadata.items()) <= MAX_METADATA_BYTES
    assert metadata["imported-by"] == caller
    assert unquote(metadata["original-name"]) == "modèle churn (v2).skops"
    assert reason.startswith(unquote(metadata["reason"])) and len(metadata["reason"]) > 1_000


def test_a_short_reason_is_kept_whole_and_an_empty_one_left_out() -> None:
    assert (
        unquote(upload_metadata("arn:aws:iam::1:user/a", "m.skops", "from the lake")["reason"])
        == "from the lake"
    )
    assert "reason" not in upload_metadata("arn:aws:iam::1:user/a", "m.skops", "")
