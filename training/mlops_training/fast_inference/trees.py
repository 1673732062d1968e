"""Histogram gradient boosting's trees, walked by scikit-learn's own compiled code in one call for all."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .transformers import Matrix

REPEATED_BYTES = 8 * 1024 * 1024  # the most memory the tree walk's repeated rows take at once


class Trees:
    """scikit-learn's own compiled tree walk (``_predict_from_raw_data``), called once for all trees.

    Calling it tree by tree costs about 15 microseconds a call in overhead, more than the walk itself.
    So the trees become one: a dispatch tree of numeric splits on an extra column, the tree number,
    leads each copy of a row to the root of its tree, and the walk runs on the rows repeated once per
    tree. Inside each tree every node, threshold and category set is the fitted one.
    """

    def __init__(self, estimator: Any) -> None:
        from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data

        self._walk = _predict_from_raw_data
        trees = [tree for iteration in estimator._predictors for tree in iteration]
        self._trees = len(trees)
        self._per_iteration = int(estimator.n_trees_per_iteration_)
        self._features = int(estimator._bin_mapper.n_bins_non_missing_.shape[0])
        dtype = trees[0].nodes.dtype
        dispatch = self._trees - 1  # a binary tree with one leaf per tree has one node fewer
        sizes = [len(tree.nodes) for tree in trees]
        offsets = dispatch + np.cumsum([0, *sizes])[:-1]
        bitset_sizes = [len(tree.raw_left_cat_bitsets) for tree in trees]
        bitset_offsets = np.cumsum([0, *bitset_sizes])[:-1]
        parts = []
        for tree, offset, bitset_offset in zip(trees, offsets, bitset_offsets, strict=True):
            nodes = tree.nodes.copy()
            inner = nodes["is_leaf"] == 0
            nodes["left"][inner] += np.uint32(offset)
            nodes["right"][inner] += np.uint32(offset)
            nodes["bitset_idx"][nodes["is_categorical"] == 1] += np.uint32(bitset_offset)
            parts.append(nodes)
        head = _dispatch_tree(offsets, self._features, dtype)
        self._nodes = np.concatenate([head, *parts]) if parts else head
        bitsets = [np.asarray(tree.raw_left_cat_bitsets, dtype=np.uint32).reshape(-1, 8) for tree in trees]
        self._bitsets = np.ascontiguousarray(
            np.concatenate(bitsets) if sum(bitset_sizes) else np.zeros((1, 8), np.uint32)
        )
        known, feature_map = estimator._bin_mapper.make_known_categories_bitsets()
        self._known = np.ascontiguousarray(known)
        self._feature_map = np.ascontiguousarray(np.append(feature_map, np.uint32(0)), dtype=np.uint32)

    def raw(self, x: npt.NDArray[np.float64], baseline: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The raw predictions, (rows, trees per iteration), as ``_raw_predict`` computes them.

        Rows go through in chunks, so that the rows repeated once per tree stay within
        :data:`REPEATED_BYTES` however large the request.
        """
        if x.shape[1] != self._features:
            raise ValueError(f"{x.shape[1]} columns; the trees read {self._features}")
        raw = np.zeros((x.shape[0], self._per_iteration), dtype=np.float64, order="F")
        raw += baseline
        chunk = max(1, REPEATED_BYTES // (self._trees * (self._features + 1) * 8))
        for start in range(0, x.shape[0], chunk):
            rows = slice(start, start + chunk)
            values = self._leaf_values(x[rows])
            for k in range(self._per_iteration):
                terms = np.concatenate((raw[rows, k][None, :], values[k :: self._per_iteration]), axis=0)
                raw[rows, k] = np.add.accumulate(terms, axis=0)[-1]  # tree after tree, in the fitted order
        return raw

    def _leaf_values(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Each tree's leaf value for each row: (trees, rows)."""
        rows = x.shape[0]
        repeated = np.empty((self._trees, rows, self._features + 1), dtype=np.float64)
        repeated[:, :, :-1] = x
        repeated[:, :, -1] = np.arange(self._trees, dtype=np.float64)[:, None]
        out = np.empty(self._trees * rows, dtype=np.float64)
        flat = repeated.reshape(-1, self._features + 1)
        self._walk(self._nodes, flat, self._bitsets, self._known, self._feature_map, 1, out)
        return out.reshape(self._trees, rows)


def _dispatch_tree(roots: npt.NDArray[np.intp], column: int, dtype: np.dtype[Any]) -> Matrix:
    """``len(roots) - 1`` nodes that send a row whose ``column`` holds ``t`` to ``roots[t]``: splits at
    the middle of a range of tree numbers, the first node the top one."""
    head = np.zeros(len(roots) - 1, dtype=dtype)
    free = iter(range(len(head)))

    def split(low: int, high: int) -> int:
        if high - low == 1:
            return int(roots[low])
        at, middle = next(free), (low + high) // 2
        head[at]["feature_idx"] = column
        head[at]["num_threshold"] = middle - 0.5
        head[at]["left"] = split(low, middle)
        head[at]["right"] = split(middle, high)
        return at

    split(0, len(roots))
    return head
