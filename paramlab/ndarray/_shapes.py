"""MXNet's reshape codes.

0 copies a dim, -1 infers one, -2 copies the rest, -3 merges two, -4 splits one.
"""

from __future__ import annotations


def _prod(dims):
    out = 1
    for d in dims:
        out *= d
    return out


def infer_reshape(src: tuple, spec: tuple, reverse=False, np_semantics=False) -> tuple:
    """The target shape of reshaping ``src`` by ``spec``; ValueError naming both otherwise.

    >>> infer_reshape((2, 3, 4), (0, -1))
    (2, 12)
    >>> infer_reshape((2, 3, 4), (-3, 4))
    (6, 4)
    >>> infer_reshape((6, 4), (-4, 2, -1, 0))
    (2, 3, 4)
    """
    try:
        spec = tuple(int(s) for s in spec)
    except (TypeError, ValueError):
        raise TypeError(f"reshape: shape must be a tuple of ints, got {spec!r}") from None
    if np_semantics:
        return _numpy_reshape(src, spec)
    if reverse:
        out = infer_reshape(src[::-1], _reverse_spec(spec))
        return out[::-1]
    out, i, j, infer_at = [], 0, 0, None
    while j < len(spec):
        s = spec[j]
        if s > 0:
            out.append(s)
            i += 1
        elif s == 0:
            if i >= len(src):
                raise ValueError(f"reshape: code 0 at position {j} has no dim to copy in {src}")
            out.append(src[i])
            i += 1
        elif s == -1:
            if infer_at is not None:
                raise ValueError(f"reshape: more than one -1 in {spec}")
            infer_at = len(out)
            out.append(-1)
            i += 1
        elif s == -2:
            out.extend(src[i:])
            i = len(src)
        elif s == -3:
            if i + 1 >= len(src):
                raise ValueError(f"reshape: code -3 at position {j} needs two dims of {src}")
            out.append(src[i] * src[i + 1])
            i += 2
        elif s == -4:
            if j + 2 >= len(spec) or i >= len(src):
                raise ValueError(f"reshape: code -4 at position {j} needs two sizes after it")
            a, b = spec[j + 1], spec[j + 2]
            if a == -1 and b == -1:
                raise ValueError("reshape: -4 cannot be followed by two -1")
            if a == -1:
                a = src[i] // b if b else 0
            if b == -1:
                b = src[i] // a if a else 0
            if a * b != src[i]:
                raise ValueError(f"reshape: cannot split dim {src[i]} into {a} x {b}")
            out.extend([a, b])
            i += 1
            j += 2
        else:
            raise ValueError(f"reshape: invalid code {s} in {spec}")
        j += 1
    return _finish(src, tuple(out), infer_at, spec)


def _reverse_spec(spec):
    # -4 takes the two sizes after it; reversing keeps each group together
    groups, j = [], 0
    while j < len(spec):
        if spec[j] == -4:
            groups.append((-4, spec[j + 2], spec[j + 1]))
            j += 3
        else:
            groups.append((spec[j],))
            j += 1
    return tuple(x for g in reversed(groups) for x in g)


def _numpy_reshape(src, spec):
    infer_at = None
    for k, s in enumerate(spec):
        if s == -1:
            if infer_at is not None:
                raise ValueError(f"reshape: more than one -1 in {spec}")
            infer_at = k
        elif s < 0:
            raise ValueError(f"reshape: invalid dimension {s} in {spec}")
    return _finish(src, spec, infer_at, spec)


def _finish(src, out, infer_at, spec):
    total = _prod(src)
    if infer_at is not None:
        known = _prod(d for k, d in enumerate(out) if k != infer_at)
        if known == 0 or total % known:
            raise ValueError(f"reshape: cannot reshape array of shape {src} into {spec}")
        out = out[:infer_at] + (total // known,) + out[infer_at + 1 :]
    if _prod(out) != total:
        raise ValueError(
            f"reshape: cannot reshape array of shape {src} ({total} elements) into {spec} "
            f"(gives {out})"
        )
    return tuple(out)
