"""The model's answer for a request's rows: labels, and class probabilities for a classifier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .rows import Parsed
from .spec import ServingSpec


@dataclass(frozen=True)
class Prediction:
    """The model's answer for the rows of one request."""

    predicted: list[Any]
    probabilities: npt.NDArray[np.float64] | None
    warnings: list[str]


def predict_rows(pipeline: Any, spec: ServingSpec, parsed: Parsed) -> Prediction:
    """Run the Pipeline on the parsed rows: labels, and class probabilities for a classifier.

    A classifier's label is the class of highest probability, which is what ``predict`` returns for
    the platform's model families; one pass through the Pipeline gives both.
    """
    if spec.task != "classification":
        predicted = pipeline.predict(parsed.matrix).astype(np.float64)
        return Prediction([float(v) for v in predicted], None, parsed.warnings)
    probabilities = pipeline.predict_proba(parsed.matrix).astype(np.float64)
    classes = pipeline.classes_
    labels = classes[np.argmax(probabilities, axis=1)]
    return Prediction([v.item() if hasattr(v, "item") else v for v in labels], probabilities, parsed.warnings)
