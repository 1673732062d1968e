"""A request's rows being checked: the feature matrix they fill, and the problems and warnings found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .checks import ColumnCheck
from .protocol import RequestError
from .spec import ServingSpec

MAX_PROBLEMS = 10  # problems listed in one answer; the count says how many there were


@dataclass
class Parsed:
    """A request's rows as the model's feature matrix, and what was worth a warning."""

    matrix: npt.NDArray[np.object_]
    warnings: list[str]


class Rows:
    """Fills the feature matrix with checked values; collects problems and warnings (a :class:`Report`)."""

    def __init__(self, spec: ServingSpec, rows: int) -> None:
        self.spec = spec
        self.matrix = np.empty((rows, len(spec.features)), dtype=object)
        self.problems: list[str] = []
        self.count = 0
        self.warnings: dict[str, None] = {}  # in the order found, each once

    def problem(self, text: str) -> None:
        """Count a problem; the first :data:`MAX_PROBLEMS` are listed."""
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def warn(self, text: str) -> None:
        """Note a warning (once, however many values it concerns)."""
        self.warnings[text] = None

    def names(self, row: int, names: list[str]) -> list[ColumnCheck | None]:
        """The checks of a row's fields given by name (None for a field the model does not read);
        missing and undeclared fields are problems or warnings, as the contract says."""
        spec = self.spec
        unknown = [name for name in names if name not in spec.columns]
        if unknown:
            listed = ", ".join(repr(n) for n in unknown)
            if spec.extra_columns == "reject":
                self.problem(f"row {row}: field(s) {listed} are not in the dataset's contract")
            elif spec.extra_columns == "warn":
                self.warn(f"ignored field(s) not in the contract: {listed}")
        present = set(names)
        missing = [name for name in spec.features if name not in present]
        if missing:
            self.problem(f"row {row}: missing field(s) {', '.join(repr(n) for n in missing)}")
        checks = spec.checks
        return [checks.get(name) for name in names]

    def put(self, row: int, check: ColumnCheck, value: Any, *, text: bool) -> None:
        """Check one value (:meth:`ColumnCheck.value`) and write it to the matrix."""
        self.matrix[row, check.feature] = check.value(value, text=text, row=row, report=self)

    def put_columns(self, checks: list[ColumnCheck | None], lines: list[list[str]]) -> bool:
        """Fill the matrix a whole column at a time (:meth:`ColumnCheck.column`), ``checks[i]`` reading
        field ``i`` of each line; False when a line or a field needs checking one by one (:meth:`put`).
        """
        if any(len(line) != len(checks) for line in lines):
            return False
        fields = list(zip(*lines, strict=True))  # the CSV's columns
        for position, check in enumerate(checks):
            if check is not None:
                values = check.column(list(fields[position]))
                if values is None:
                    return False
                self.matrix[:, check.feature] = values
        return True

    def result(self) -> Parsed:
        """The matrix and the warnings.

        Raises
        ------
        RequestError
            400 when any value had a problem: how many, and the first :data:`MAX_PROBLEMS`.
        """
        if self.problems:
            more = f" (and {self.count - len(self.problems)} more)" if self.count > len(self.problems) else ""
            raise RequestError(
                400, f"the request has {self.count} problem(s){more}: {self.problems[0]}", self.problems
            )
        return Parsed(self.matrix, list(self.warnings))
