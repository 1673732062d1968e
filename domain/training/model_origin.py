"""Where a registered model came from, as its registry metadata records it: a built-in family, a team's
module, or a file imported from elsewhere; and the hyperparameters' entries, however many a team has.

The training job writes ``evaluation.json``'s ``model`` (``training/mlops_training/model_choice.py``)::

    {"kind": "family" | "module" | "imported",
     "family": name | null,
     "module": {"path": as configured, "builder": name, "sha256": hex} | null,
     "imported": {"name": original file name, "sha256": hex, "by": caller ARN} | null,
     "packages": {name: version}}

An ``evaluation.json`` from before it (a version trained by an earlier release, a champion) has no
``model``: it registers as before, a built-in family without these entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain import model_metadata as keys
from domain.model_metadata import MAX_VALUE, metadata_key, metadata_value

__all__ = [
    "ModelOrigin",
    "ModelOriginError",
    "hyperparameter_entries",
    "origin_words",
    "packages_value",
]


class ModelOriginError(ValueError):
    """``evaluation.json``'s ``model`` is not what the training job writes: the message names the key."""


@dataclass(frozen=True)
class ModelOrigin:
    """What ``evaluation.json``'s ``model`` says of the model, as the lineage keeps it.

    Attributes
    ----------
    kind : {"family", "module", "imported"}
    module : str, optional
        A team's module and builder, ``"<path as configured>:<builder>"``.
    module_sha256 : str, optional
        SHA-256 of the module file as shipped.
    import_sha256, imported_by, import_name : str, optional
        An imported model's file SHA-256, the caller's ARN, and the file's original name.
    packages : dict
        What the model needs beyond the image (``{"lightgbm": "4.7.0"}``).
    """

    kind: str
    module: str | None = None
    module_sha256: str | None = None
    import_sha256: str | None = None
    imported_by: str | None = None
    import_name: str | None = None
    packages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_evaluation(cls, evaluation: Mapping[str, Any]) -> ModelOrigin | None:
        """The origin ``evaluation.json`` records, or None when it has no ``model`` (an earlier release).

        Raises
        ------
        ModelOriginError
            When ``model`` is there but not in the job's format.
        """
        model = evaluation.get("model")
        if model is None:
            return None
        if not isinstance(model, Mapping) or model.get("kind") not in ("family", "module", "imported"):
            raise ModelOriginError(
                "evaluation.json: model.kind must be family, module or imported (the training job writes it)"
            )
        module = _part(model, "module", ("path", "builder", "sha256"))
        imported = _part(model, "imported", ("name", "sha256", "by"))
        packages = model.get("packages") or {}
        if not isinstance(packages, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in packages.items()
        ):
            raise ModelOriginError("evaluation.json: model.packages must map package names to versions")
        return cls(
            kind=str(model["kind"]),
            module=f"{module['path']}:{module['builder']}" if module else None,
            module_sha256=module["sha256"] if module else None,
            import_sha256=imported["sha256"] if imported else None,
            imported_by=imported["by"] if imported else None,
            import_name=imported["name"] if imported else None,
            packages=dict(sorted(packages.items())),
        )

    def metadata(self) -> dict[str, str]:
        """The registry's entries (values as AWS allows them; empty ones left out)."""
        entries = {
            keys.LINEAGE_MODULE: self.module,
            keys.LINEAGE_MODULE_SHA256: self.module_sha256,
            keys.LINEAGE_IMPORT_SHA256: self.import_sha256,
            keys.LINEAGE_IMPORTED_BY: self.imported_by,
            keys.LINEAGE_IMPORT_NAME: self.import_name,
            keys.MODEL_PACKAGES: packages_value(self.packages),
        }
        cleaned = {name: metadata_value(value) for name, value in entries.items() if value}
        return {name: value for name, value in cleaned.items() if value}


def _part(model: Mapping[str, Any], name: str, fields: tuple[str, ...]) -> dict[str, str] | None:
    part = model.get(name)
    if part is None:
        return None
    if not isinstance(part, Mapping) or not all(isinstance(part.get(f), str) and part.get(f) for f in fields):
        raise ModelOriginError(f"evaluation.json: model.{name} needs the strings {', '.join(fields)}")
    return {f: str(part[f]) for f in fields}


def packages_value(packages: Mapping[str, str]) -> str:
    """``"lightgbm==4.7.0 narwhals==2.1.0"``: whole pins that fit in one value, then ``+N more``."""
    pins = [metadata_value(f"{name}=={version}") for name, version in sorted(packages.items())]
    kept: list[str] = []
    for index, pin in enumerate(pins):
        more = len(pins) - index - 1
        tail = f" +{more} more" if more else ""
        if len(" ".join([*kept, pin]) + tail) > MAX_VALUE:
            return " ".join([*kept, f"+{len(pins) - index} more"])
        kept.append(pin)
    return " ".join(kept)


def hyperparameter_entries(hyperparameters: Mapping[str, Any], room: int) -> dict[str, str]:
    """``hp.<name>`` entries of the hyperparameters used, at most ``room`` entries in all.

    A team's hyperparameters are free JSON: a value is its JSON text (a string as itself) cut to what AWS
    allows (:func:`domain.model_metadata.metadata_value`), a name cut to a key's characters. When they do
    not all fit, the first by name are kept; ``model.hyperparameters_omitted`` says how many have no entry
    (for want of room, or of a name or value left in AWS's characters) and are only in ``evaluation.json``.

    Parameters
    ----------
    hyperparameters : mapping
        ``evaluation.json``'s ``hyperparameters``.
    room : int
        Entries the package has left for them.

    Returns
    -------
    dict
        Keys ``hp.<name>`` (and the omitted count), values as AWS allows them.
    """
    entries: dict[str, str] = {}
    for name, value in sorted(hyperparameters.items()):
        key = metadata_key(keys.HYPERPARAMETER + str(name))
        text = metadata_value(value)
        if key != keys.HYPERPARAMETER and text and key not in entries:
            entries[key] = text
    if len(entries) == len(hyperparameters) and len(entries) <= room:
        return entries
    kept = dict(list(entries.items())[: max(room - 1, 0)])
    omitted = len(hyperparameters) - len(kept)
    return kept | {keys.MODEL_HYPERPARAMETERS_OMITTED: f"{omitted} more in evaluation.json"}


def origin_words(evaluation: Mapping[str, Any]) -> str:
    """The model card's sentence on where the model came from ('' for a built-in family or none said)."""
    try:
        origin = ModelOrigin.from_evaluation(evaluation)
    except ModelOriginError:
        return ""  # the metadata refuses it first (registration.model_package_request)
    if origin is None or origin.kind == "family":
        return ""
    if origin.kind == "module":
        said = f" Built by the team's module {origin.module} (sha256 {origin.module_sha256})."
    else:
        said = (
            f" Imported from {origin.import_name} (sha256 {origin.import_sha256}) by {origin.imported_by}: "
            "evaluated on the test rows, not trained here."
        )
    pins = " ".join(f"{name}=={version}" for name, version in origin.packages.items())
    return said + (f" Packages beyond the image: {pins}." if pins else "")
