"""spec/ ships in every bundle that runs the platform's code: a Lambda asset, the training source
directory, and the model archive a training job writes; each imports the copy it carries.

The bundles are built by the project's own packaging (``stacks.constructs.lambda_packaging``, and the
training job's ``ship_inference_code``), synthesized in a throwaway app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets

from stacks.constructs.lambda_packaging import PROJECT_ROOT, function_code, training_source_bundling

# Import spec and name the file it came from, with nothing on the path but the bundle's folder.
WHERE_SPEC_IS = "import json, spec, spec.values; print(json.dumps(spec.__file__))"


def _imports_from(folder: Path, script: str) -> str:
    """What ``script`` prints when run from ``folder`` (the folder first on the path, as the runtimes do)."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _synthesized(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A stack with one function asset and the training source asset; its assembly and asset paths."""
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Packaging")
    lambda_.Function(
        stack,
        "Validation",
        code=function_code("dataset_validation"),
        handler="handler.handler",
        runtime=lambda_.Runtime.PYTHON_3_12,
    )
    s3_assets.Asset(
        stack, "Source", path=str(PROJECT_ROOT / "training"), bundling=training_source_bundling(None)
    )
    assembly = Path(app.synth().directory)
    manifest = json.loads((assembly / "Packaging.assets.json").read_text())
    paths = {
        asset["displayName"].split("/")[0]: asset["source"]["path"]
        for asset in manifest["files"].values()
        if "displayName" in asset
    }
    return assembly, paths


def test_the_lambda_asset_the_training_source_and_the_model_archive_each_carry_spec(tmp_path: Path) -> None:
    assembly, paths = _synthesized(tmp_path)
    function_asset = assembly / paths["Validation"]
    source = tmp_path / "sourcedir"
    with tarfile.open(assembly / paths["Source"]) as archive:
        archive.extractall(source, filter="data")

    # A Lambda asset: the handler's folder holds spec/ beside domain/, and imports it from there.
    assert (function_asset / "spec" / "values.py").is_file()
    assert json.loads(_imports_from(function_asset, WHERE_SPEC_IS)) == str(
        function_asset / "spec" / "__init__.py"
    )
    # The training source directory: spec/ beside train.py; the job's modules import it from there.
    assert (source / "train.py").is_file() and (source / "spec" / "values.py").is_file()
    assert json.loads(_imports_from(source, WHERE_SPEC_IS)) == str(source / "spec" / "__init__.py")
    # The model archive's code/, as the job writes it from the source directory: spec/ beside inference.py.
    _imports_from(source, "from pathlib import Path; from mlops_training.job import ship_inference_code; "
                  "ship_inference_code(Path('model/code'))")  # fmt: skip
    code = source / "model" / "code"
    assert (code / "inference.py").is_file() and (code / "mlops_training" / "job.py").is_file()
    assert json.loads(_imports_from(code, WHERE_SPEC_IS)) == str(code / "spec" / "__init__.py")
