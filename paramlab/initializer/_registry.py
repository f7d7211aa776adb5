"""The initializer registry: ``register``, ``alias`` and ``create``.

Names are stored lower-cased, so lookups are case-insensitive. ``create``
accepts everything MXNet code passes around as an initializer: an instance, a
registered name, a ``dumps()`` JSON string, a JSON object of constructor
arguments with an ``"initializer"`` key, or the same as a dict.

>>> import paramlab as mx
>>> mx.init.create('Xavier')
Xavier(rnd_type='uniform', factor_type='avg', magnitude=3)
>>> mx.init.create('["constant", {"value": 2.5}]')
Constant(value=2.5)
>>> mx.init.create({'initializer': 'normal', 'sigma': 0.5})
Normal(sigma=0.5)
"""

from __future__ import annotations

import json
import warnings

from ._base import Initializer, UnknownInitializerError

__all__ = ["register", "alias", "create", "registered"]

_REGISTRY: dict[str, type] = {}


def _register_as(klass, name: str):
    if not isinstance(klass, type) or not issubclass(klass, Initializer):
        raise TypeError(
            f"register: can only register subclasses of mx.init.Initializer, got {klass!r}"
        )
    if not isinstance(name, str) or not name:
        raise TypeError(f"register: a name must be a non-empty str, got {name!r}")
    key = name.lower()
    previous = _REGISTRY.get(key)
    if previous is not None and previous is not klass:
        warnings.warn(
            f"New initializer {klass.__module__}.{klass.__name__} registered with name {key} is "
            f"overriding existing initializer {previous.__module__}.{previous.__name__}",
            UserWarning,
            stacklevel=3,
        )
    _REGISTRY[key] = klass
    return klass


def register(klass):
    """Register an Initializer subclass under its lower-cased class name (a decorator).

    >>> import paramlab as mx
    >>> @mx.init.register
    ... class Sevens(mx.init.Initializer):
    ...     def _init_weight(self, name, data):
    ...         data[:] = 7
    >>> w = mx.nd.zeros((2,))
    >>> mx.init.create('sevens')(mx.init.InitDesc('w_weight'), w)
    >>> w.asnumpy().tolist()
    [7.0, 7.0]
    """
    return _register_as(klass, getattr(klass, "__name__", ""))


def alias(*names):
    """A decorator that registers an Initializer subclass under more names."""
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"alias: names must be non-empty strings, got {name!r}")

    def decorate(klass):
        for name in names:
            _register_as(klass, name)
        return klass

    return decorate


def registered() -> dict[str, type]:
    """A copy of the registry: lower-cased name -> Initializer subclass."""
    return dict(_REGISTRY)


def create(*args, **kwargs) -> Initializer:
    """An Initializer from an instance, a name, a JSON string or a dict.

    Parameters
    ----------
    initializer : Initializer, str or dict
        An instance (returned as is), a registered name (case-insensitive), a
        ``dumps()`` string ``'["name", {...}]'``, a JSON object
        ``'{"initializer": "name", ...}'`` or such a dict. It may also be given
        as the keyword ``initializer``.
    *args, **kwargs
        Constructor arguments for a registered name.

    Returns
    -------
    Initializer
    """
    if args:
        spec, args = args[0], args[1:]
    elif "initializer" in kwargs:
        spec = kwargs.pop("initializer")
    else:
        raise TypeError(
            "create: expected an initializer (an Initializer, a registered name, a JSON string "
            "or a dict), got nothing"
        )
    if isinstance(spec, Initializer):
        if args or kwargs:
            raise ValueError(
                f"create: {spec!r} is already an instance; extra arguments {args or ''}"
                f"{kwargs or ''} are invalid"
            )
        return spec
    if isinstance(spec, dict):
        _no_extra(spec, args, kwargs)
        if "initializer" not in spec:
            raise ValueError(f"create: a dict needs the key 'initializer', got keys {list(spec)}")
        return create(**spec)
    if not isinstance(spec, str):
        raise TypeError(
            "create: initializer must be an Initializer, a registered name, a JSON string or a "
            f"dict, got {type(spec).__name__} {spec!r}"
        )
    if spec.startswith("["):
        _no_extra(spec, args, kwargs)
        name, params = _loads_pair(spec)
        return create(name, **params)
    if spec.startswith("{"):
        _no_extra(spec, args, kwargs)
        params = _loads(spec)
        if not isinstance(params, dict) or "initializer" not in params:
            raise ValueError(
                f"create: expected a JSON object with the key 'initializer', got {spec!r}"
            )
        return create(**params)
    return _construct(spec, args, kwargs)


def _no_extra(spec, args, kwargs) -> None:
    if args or kwargs:
        raise ValueError(
            f"create: {spec!r} already holds the arguments; extra arguments {args or ''}"
            f"{kwargs or ''} are invalid"
        )


def _loads(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"create: {text!r} is not valid JSON ({exc})") from None


def _loads_pair(text: str) -> tuple[str, dict]:
    value = _loads(text)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], str)
        or not isinstance(value[1], dict)
    ):
        raise ValueError(
            f'create: expected a JSON pair ["name", {{arguments}}] as dumps() writes, got {text!r}'
        )
    return value[0], value[1]


def _construct(name: str, args, kwargs) -> Initializer:
    klass = _REGISTRY.get(name.lower())
    if klass is None:
        raise UnknownInitializerError(
            f"{name} is not registered as an initializer; registered names are "
            f"{sorted(_REGISTRY)}. Register a class with @mx.init.register first."
        )
    try:
        return klass(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"create: cannot build initializer {name!r}: {exc}") from exc
