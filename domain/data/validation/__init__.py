"""Streaming validation of uploaded datasets against their contracts.

Public API: :func:`validate_dataset`, :class:`ValidationResult`, :func:`compare_with_previous`,
:class:`Finding` and the check ids in :mod:`domain.data.validation.findings`. The report format is
described in :mod:`domain.data.validation.report`, the profile format in
 :mod:`domain.data.validation.profile`.
"""

from domain.data.profile_checks import compare_with_previous
from domain.data.validation.findings import CHECK_IDS, Finding
from domain.data.validation.report import ValidationResult
from domain.data.validation.validator import validate_dataset

__all__ = ["CHECK_IDS", "Finding", "ValidationResult", "compare_with_previous", "validate_dataset"]
