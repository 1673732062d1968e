"""Which contract columns a model learns from: the rule the configuration's check and the training job share.

Every contract column except the target, the split key, the configuration's ``exclude_columns`` and
``string`` columns (identifiers or free text: declare a ``category`` column to use its values), in
contract order.
"""

from __future__ import annotations

from collections.abc import Iterable


def is_feature(
    name: str, type_: str, *, target: str, key_column: str | None, exclude_columns: Iterable[str]
) -> bool:
    """Whether a model learns from the contract column ``name`` of type ``type_``.

    Parameters
    ----------
    name, type_ : str
        The column's name and contract type.
    target : str
        The contract's target.
    key_column : str, optional
        The configuration's ``split.key_column``.
    exclude_columns : iterable of str
        The configuration's ``exclude_columns``.
    """
    return type_ != "string" and name not in {target, key_column, *exclude_columns}
