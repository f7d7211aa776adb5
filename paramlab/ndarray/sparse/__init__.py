"""``mx.nd.sparse``: row_sparse and csr storage.

A :class:`RowSparseNDArray` stores some rows of an array (``data``, shape
``(k,) + shape[1:]``) and their sorted, unique int64 row ids (``indices``); a
:class:`CSRNDArray` stores the non-zero entries of a matrix row by row
(``data``), their int64 column ids (``indices``) and int64 row pointers
(``indptr``). Both are NDArrays (``isinstance(x, mx.nd.NDArray)`` holds, as in
MXNet), keep only these components on their context, and print as MXNet does::

    <RowSparseNDArray 5x2 @cpu(0)>

How a sparse array uses NDArray's ``_data`` slot
------------------------------------------------
For a dense NDArray, ``_data`` is the raw array. A sparse array has no such
buffer; its ``_data`` is a read-only *property* that builds a new dense raw
array from the components each time it is read, and assigning it raises
TypeError. This is MXNet's "storage fallback": an operation without a sparse
implementation (``rsp.exp()``, ``rsp.sum()``, ``rsp + 1``, ``rsp.T``, an
operator recorded by autograd, ...) reads the dense value and returns a dense
result, as MXNet does. Reading ``_data`` costs a dense allocation; writing
into the array it returns changes nothing. Every write to a sparse array
therefore goes through a method that the sparse classes define:
``x[:] = value``, ``copyto``, ``+=`` and the other in-place operators,
``_receive_grad`` and ``_zero_grad``; ``NDArray.copyto`` hands a sparse
target to it. Sparse results are never recorded by autograd: while an operand
is in a graph, arithmetic and ``dot`` return dense (recorded) results.

Package-internal helpers (for Parameter and Trainer)
----------------------------------------------------
- ``_full_row_sparse(value, ctx=None)``: a RowSparseNDArray storing
  every row of a dense value, as MXNet initializes row_sparse parameters.
- ``retain(x, row_ids)``: pull a set of rows (stored as given, zeros where absent).
- ``RowSparseNDArray._receive_grad(total, grad_req)``: a ``RowSparseGrad`` is
  stored as it is ('write') or merged row by row ('add'); a dense raw total
  keeps its non-zero rows (a row of zeros is not stored, as MXNet's dense to
  row_sparse cast does).
- ``_zero_grad()`` (also ``zero()``): no stored rows / entries afterwards.
- ``x._values``, ``x._indices``, ``x._indptr``: the raw components;
  ``cls._from_parts(ctx, shape, values, *aux)`` builds from trusted components.
"""

from ._arrays import BaseSparseNDArray, CSRNDArray, RowSparseNDArray
from ._creation import (
    array,
    cast_storage,
    csr_matrix,
    empty,
    row_sparse_array,
    zeros,
    zeros_like,
)
from ._creation import full_row_sparse as _full_row_sparse  # noqa: F401 - package-internal
from ._ops import (
    add,
    divide,
    dot,
    elemwise_add,
    elemwise_mul,
    elemwise_sub,
    multiply,
    negative,
    retain,
    subtract,
)

__all__ = [
    "BaseSparseNDArray",
    "RowSparseNDArray",
    "CSRNDArray",
    "row_sparse_array",
    "csr_matrix",
    "zeros",
    "empty",
    "array",
    "zeros_like",
    "cast_storage",
    "retain",
    "dot",
    "add",
    "subtract",
    "multiply",
    "divide",
    "negative",
    "elemwise_add",
    "elemwise_sub",
    "elemwise_mul",
]
