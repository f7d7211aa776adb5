"""How view state reaches the browser: array payloads, the send budget, the front-end files.

No widget imports here: this module is shared by every view (and by the
``InitDiagnosticsView`` that :mod:`paramlab.diagnostics` feeds) and is tested
on its own.

* :func:`array_payload` turns a small host NumPy array into the
  ``{"buffer", "dtype", "shape"}`` object of ``PROTOCOL.md`` (section 1);
  ipywidgets moves the ``memoryview`` into a binary frame.
* :class:`Throttle` decides when the next update may be computed and sent:
  at most ``rate`` per second, within a byte budget and a duty-cycle budget.
* :func:`esm_source` and :func:`css_source` read the browser files from the
  installed package (``paramlab/_static``) or, in an editable install, from
  the repository's ``widgets/`` folder, inlining ``common.js``.
* :class:`RecordingComm` captures what a widget sends (headless tests).
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import numpy as np

__all__ = [
    "WIRE_DTYPES",
    "array_payload",
    "payload_nbytes",
    "Throttle",
    "static_dir",
    "esm_source",
    "css_source",
    "RecordingComm",
]

WIRE_DTYPES = ("uint8", "uint32", "int32", "float32", "float64")
"""The dtypes an array may travel as (JavaScript has typed arrays for each)."""


# --------------------------------------------------------------------------- arrays
def array_payload(a, dtype: str | None = None) -> dict:
    """A small host array as the protocol's ``{"buffer", "dtype", "shape"}`` object.

    Parameters
    ----------
    a : numpy.ndarray or array_like
        Host data (a few thousand numbers; summaries, never a whole tensor).
    dtype : str, optional
        One of :data:`WIRE_DTYPES`; default: the array's own dtype, which must be one.

    Returns
    -------
    dict
        ``buffer`` is a ``memoryview`` of a C-ordered little-endian copy.

    Examples
    --------
    >>> import numpy as np
    >>> p = array_payload(np.arange(6).reshape(2, 3), "uint8")
    >>> p["dtype"], p["shape"], bytes(p["buffer"])
    ('uint8', [2, 3], b'\\x00\\x01\\x02\\x03\\x04\\x05')
    """
    if not isinstance(a, np.ndarray):
        a = np.asarray(a)
    name = str(a.dtype) if dtype is None else str(dtype)
    if name not in WIRE_DTYPES:
        raise TypeError(
            f"array_payload: arrays travel as one of {list(WIRE_DTYPES)}; got dtype {name!r} "
            "(pass dtype= to convert)"
        )
    out = np.ascontiguousarray(a, dtype=np.dtype(name).newbyteorder("<"))
    flat = out.reshape(-1).view(np.uint8)
    return {"buffer": memoryview(flat), "dtype": name, "shape": [int(d) for d in a.shape]}


_SCALARS = frozenset((int, float, bool, type(None)))


def payload_nbytes(value) -> int:
    """Approximate bytes ``value`` costs on the wire (buffers exactly, JSON estimated).

    Examples
    --------
    >>> import numpy as np
    >>> payload_nbytes({"a": array_payload(np.zeros(100, np.float32))}) > 400
    True
    """
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, memoryview):
        return value.nbytes
    if isinstance(value, dict):
        return 2 + sum(len(str(k)) + 4 + payload_nbytes(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if value and all(type(v) in _SCALARS for v in value):  # numbers: 12 bytes and a comma each
            return 2 + 13 * len(value)
        return 2 + sum(1 + payload_nbytes(v) for v in value)
    if isinstance(value, str):
        return len(value) + 2
    return 12


# --------------------------------------------------------------------------- throttle
class Throttle:
    """When the next live update may happen: coalesced, rate-, byte- and duty-limited.

    After an update that started at ``t0``, took ``T`` seconds and sent ``B``
    bytes, the next may start at ``t0 + max(1 / rate, B / max_bytes_per_second,
    T / max_duty)``. Updates asked for earlier are coalesced: the caller only
    marks itself dirty and the next allowed update sends the latest state.

    Parameters
    ----------
    clock : callable, optional
        Seconds as a float (default :func:`time.monotonic`); tests pass a fake clock.

    Examples
    --------
    >>> now = [0.0]
    >>> t = Throttle(clock=lambda: now[0])
    >>> t.due()
    True
    >>> t.sent(started=0.0, finished=0.001, nbytes=1000, rate=10, max_bytes_per_second=1e6,
    ...        max_duty=0.05)
    >>> t.due(), t.next_at
    (False, 0.1)
    """

    def __init__(self, clock=None):
        self.clock = clock or time.monotonic
        self.next_at = -math.inf

    def due(self) -> bool:
        """Whether a live update may run now."""
        return self.clock() >= self.next_at

    def sent(self, started, finished, nbytes, rate, max_bytes_per_second, max_duty) -> None:
        """Record an update and schedule the earliest next one."""
        waits = [1.0 / rate if rate > 0 else math.inf]
        if max_bytes_per_second > 0:
            waits.append(nbytes / max_bytes_per_second)
        if max_duty > 0:
            waits.append(max(finished - started, 0.0) / max_duty)
        self.next_at = started + max(waits)


# --------------------------------------------------------------------------- static files
_PACKAGE = Path(__file__).resolve().parent.parent  # .../paramlab
_FALLBACK_ESM = """
export default {
  render({ model, el }) {
    const pre = document.createElement("pre");
    pre.className = "paramlab-fallback";
    pre.textContent = "paramlab: the browser file %(name)s is missing from this installation.";
    el.append(pre);
    return () => pre.remove();
  },
};
"""
_IMPORT = re.compile(
    r"""import\s*(?:\{(?P<names>[^}]*)\}|\*\s*as\s+(?P<star>\w+))\s*from\s*["']\./common\.js["']\s*;?"""
)
_EXPORTED = re.compile(
    r"^export\s+(?:async\s+)?(?:function\s*\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)", re.M
)
_EXPORT_LIST = re.compile(r"^export\s*\{([^}]*)\}\s*;?", re.M)


def static_dir() -> Path:
    """The folder holding the browser files.

    ``paramlab/_static`` in a built wheel (hatch maps the repository's
    ``widgets/`` there), else the repository's ``widgets/`` (editable install).
    """
    packaged = _PACKAGE / "_static"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / "widgets"


def _read(name: str) -> str | None:
    path = static_dir() / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _common_names(common: str) -> list[str]:
    names = _EXPORTED.findall(common)
    for group in _EXPORT_LIST.findall(common):
        names += [part.split(" as ")[-1].strip() for part in group.split(",") if part.strip()]
    return names


def bundle(view: str, common: str | None) -> str:
    """Inline ``common`` into the view module ``view`` (PROTOCOL.md, section 0).

    Examples
    --------
    >>> src = bundle('import { a, b as c } from "./common.js";\\nexport default {};',
    ...              "export const a = 1;\\nexport function b() {}")
    >>> "const c = b;" in src and "./common.js" not in src
    True
    """
    match = _IMPORT.search(view)
    if match is None:
        return view
    if common is None:
        raise FileNotFoundError("the view module imports ./common.js but common.js is missing")
    aliases = []
    if match.group("star"):
        names = ", ".join(_common_names(common))
        aliases.append(f"const {match.group('star')} = Object.freeze({{ {names} }});")
    else:
        for part in match.group("names").split(","):
            part = part.strip()
            if " as " in part:
                original, alias = (s.strip() for s in part.split(" as "))
                aliases.append(f"const {alias} = {original};")
    body = view[: match.start()] + "\n".join(aliases) + view[match.end() :]
    return f"// ---- common.js (inlined by paramlab)\n{common}\n// ---- view module\n{body}"


def esm_source(name: str) -> str:
    """The ES module text for ``name`` (e.g. ``"parameter_view.js"``), ready for anywidget.

    A missing file gives a small module that says so, so a view never fails to
    construct because of packaging.
    """
    view = _read(name)
    if view is None:
        return _FALLBACK_ESM % {"name": name}
    try:
        return bundle(view, _read("common.js"))
    except FileNotFoundError:
        return _FALLBACK_ESM % {"name": "common.js"}


def css_source(name: str = "paramlab.css") -> str:
    """The stylesheet text (empty when missing)."""
    return _read(name) or ""


# --------------------------------------------------------------------------- testing
class RecordingComm:
    """A stand-in for an ipykernel ``Comm`` that records what a widget sends.

    Install it with ``monkeypatch.setattr(comm, "create_comm", RecordingComm.create)``;
    every widget created afterwards talks to a new instance, listed in
    :attr:`RecordingComm.instances`.

    Attributes
    ----------
    opened : dict
        The ``comm_open`` payload: ``{"data", "buffers"}``.
    messages : list of dict
        Every ``send``: ``{"data": ..., "buffers": [memoryview, ...]}``.
    """

    instances: list = []

    def __init__(self, data=None, buffers=None, **kwargs):
        self.comm_id = f"recording-{len(RecordingComm.instances)}"
        self.kernel = object()
        self.opened = {"data": data, "buffers": list(buffers or [])}
        self.messages: list[dict] = []
        self.closed = False
        self._handler = None
        RecordingComm.instances.append(self)

    @classmethod
    def create(cls, *args, **kwargs):
        """Factory with ``comm.create_comm``'s signature."""
        return cls(*args, **kwargs)

    def send(self, data=None, metadata=None, buffers=None):
        self.messages.append({"data": data, "buffers": list(buffers or [])})

    def on_msg(self, callback):
        self._handler = callback

    def close(self, data=None, metadata=None, buffers=None, deleting=False):
        self.closed = True

    # ------------------------------------------------------------ as seen from the browser
    def receive(self, data, buffers=None):
        """Deliver a message as the browser would (``{"method": "update"|"custom", ...}``)."""
        if self._handler is None:
            raise RuntimeError("RecordingComm.receive: no widget listens on this comm")
        self._handler({"content": {"data": data}, "buffers": list(buffers or [])})

    def updates(self) -> list[dict]:
        """The ``update`` messages' states (buffers put back in place)."""
        out = []
        for m in self.messages:
            if m["data"].get("method") != "update":
                continue
            out.append(_with_buffers(m["data"]["state"], m["data"]["buffer_paths"], m["buffers"]))
        return out

    @staticmethod
    def nbytes(message: dict) -> int:
        """Bytes of one recorded message: its JSON plus its binary buffers.

        The JSON is encoded as the Jupyter protocol does (``allow_nan=False``), so a
        NaN or infinity that leaked into the JSON part raises ValueError here.
        """
        import json

        text = json.dumps(message["data"], separators=(",", ":"), allow_nan=False)
        return len(text.encode()) + sum(memoryview(b).nbytes for b in message["buffers"])


def _with_buffers(state, paths, buffers):
    import copy

    state = copy.deepcopy(state)
    for path, buf in zip(paths, buffers):
        obj = state
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = memoryview(buf)
    return state
