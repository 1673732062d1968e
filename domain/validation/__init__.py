"""Streaming validation of uploaded datasets against their contracts.

Public API: :func:`validate_dataset`, :class:`ValidationResult`, :func:`compare_with_previous`,
:class:`Finding` and the check ids in :mod:`domain.validation.findings`. The report format is
described in :mod:`domain.validation.report`, the profile format in :mod:`domain.validation.profile`.
"""

from domain.profile_checks import compare_with_previous
from domain.validation.findings import CHECK_IDS, Finding
from domain.validation.report import ValidationResult
from domain.validation.validator import validate_dataset

__all__ = ["CHECK_IDS", "Finding", "ValidationResult", "compare_with_previous", "validate_dataset"]
