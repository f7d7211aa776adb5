"""The base of every paramlab view: budgeted live updates, end-of-cell flush, static face.

:class:`ViewBase` is declarative (traits only) plus the sending discipline of
``PROTOCOL.md`` section 2. A subclass provides three methods:

``_compute(force) -> dict | None``
    The trait values of a new update, or None when nothing changed. Called at
    most ``rate`` times per second (and within the byte and duty budgets) while
    a cell runs, once more when the cell finishes, and on :meth:`update`.
``summary_text() -> str``
    The text face (``text/plain``).
``_static_figure() -> matplotlib.figure.Figure``
    The picture face (``image/png``), drawn with the Agg backend.

Observers call :meth:`ViewBase.request_update`, which only marks the view dirty
unless an update is due, so a training loop pays almost nothing per event. The
``InitDiagnosticsView`` of :mod:`paramlab.diagnostics` is meant to subclass this.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
import time
import weakref

import anywidget
import traitlets as t

from ._transport import Throttle, css_source, payload_nbytes

__all__ = ["ViewBase", "cell_finished"]

_LIVE: weakref.WeakSet = weakref.WeakSet()
_HOOKED: list = []  # the IPython shells our post_run_cell hook is registered with


def cell_finished(result=None) -> None:
    """Send every live view's final update and refresh its static face.

    Registered on IPython's ``post_run_cell`` event when the first view is created
    inside IPython; call it yourself in other front ends.
    """
    for view in list(_LIVE):
        view._cell_finished()


def _install_cell_hook() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return
    shell = get_ipython()
    if shell is None or any(s is shell for s in _HOOKED):
        return
    shell.events.register("post_run_cell", cell_finished)
    _HOOKED.append(shell)


class ViewBase(anywidget.AnyWidget):
    """Common traits and the live-update discipline of every paramlab view.

    Parameters
    ----------
    clock : callable, optional
        Seconds as a float for the throttle (tests pass a fake clock).
    **kwargs
        Initial trait values (``rate``, ``max_bytes_per_second``, ...).
    """

    _css = css_source()

    seq = t.Int(0, help="Update number: +1 on every message that carries new data.").tag(sync=True)
    rate = t.Float(
        10.0, help="Most data messages per second sent while a cell runs (latest wins)."
    ).tag(sync=True)
    max_bytes_per_second = t.Int(
        500_000, help="Byte budget: after B bytes the next update waits B / this seconds."
    ).tag(sync=True)
    max_duty = t.Float(
        0.05, help="Most fraction of wall time spent computing updates while a cell runs."
    ).tag(sync=True)
    redraw_rate = t.Float(
        10.0, help="Most redraws per second in the browser (the kernel ignores it)."
    ).tag(sync=True)
    paused = t.Bool(False, help="Browser: freeze the display; the kernel stops sending.").tag(
        sync=True
    )
    log_scale = t.Bool(False, help="Draw histogram counts on a log scale (display only).").tag(
        sync=True
    )
    live = t.Bool(False, help="True while updates may still come during a running cell.").tag(
        sync=True
    )
    error = t.Unicode("", help="A message to show; empty when none.").tag(sync=True)

    def __init__(self, clock=None, **kwargs):
        self._throttle = Throttle(clock)
        self._dirty = False
        self._closing = False
        self._answering = False
        self._display_handle = None
        self._static_seq = None
        super().__init__(**kwargs)
        self.on_msg(self._on_custom_msg)
        _LIVE.add(self)
        _install_cell_hook()

    # ------------------------------------------------------------ validation
    @t.validate("rate", "max_duty", "redraw_rate")
    def _check_nonnegative(self, proposal):
        value = proposal["value"]
        if not value >= 0:
            raise ValueError(
                f"{type(self).__name__}.{proposal['trait'].name} must be >= 0; got {value!r}"
            )
        return value

    @t.validate("max_bytes_per_second")
    def _check_bytes(self, proposal):
        value = proposal["value"]
        if value < 0:
            raise ValueError(
                f"{type(self).__name__}.max_bytes_per_second must be >= 0; got {value!r}"
            )
        return value

    @t.observe("paused")
    def _on_paused(self, change):
        if not change["new"] and self._dirty:
            self._send_update()

    # ------------------------------------------------------------ to override
    def _compute(self, force: bool) -> dict | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def summary_text(self) -> str:  # pragma: no cover - abstract
        """The text face of this view."""
        raise NotImplementedError

    def _static_figure(self):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------ sending
    def update(self, force: bool = False) -> bool:
        """Compute and send the current state now, ignoring ``rate`` and ``paused``.

        Parameters
        ----------
        force : bool
            Recompute every summary even where no version counter changed.

        Returns
        -------
        bool
            Whether a message with new data was sent.
        """
        return self._send_update(force=force)

    def request_update(self) -> None:
        """Note that something changed; send now only if an update is due (else coalesce)."""
        self._dirty = True
        if self.rate > 0 and not self.paused and not self._closing and self._throttle.due():
            self._send_update()

    def _send_update(self, force: bool = False, final: bool = False) -> bool:
        if self._closing:
            return False
        final = final or self._answering
        clock = self._throttle.clock
        started = clock()
        values = self._compute(force)
        self._dirty = False
        if values is None:
            if final and self.live:
                self.live = False
            return False
        with self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)
            self.seq += 1
            self.live = not final
        finished = clock()
        self._throttle.sent(
            started,
            finished,
            payload_nbytes(values),
            self.rate,
            self.max_bytes_per_second,
            self.max_duty,
        )
        return True

    def _handle_msg(self, msg):
        """Handle a message from the browser; what it changes is sent as a final update.

        The kernel reads browser messages between cells, so no update follows
        until the next cell: an update they cause is sent with ``live`` False,
        and one they only asked for (coalesced) is sent at once.
        """
        self._answering = True
        try:
            super()._handle_msg(msg)
            if self._dirty and not self.paused:
                self._send_update()
        finally:
            self._answering = False

    def _on_custom_msg(self, _widget, content, _buffers):
        if isinstance(content, dict) and content.get("type") == "refresh":
            self._send_update()
        else:
            self._handle_command(content)

    def _handle_command(self, content) -> None:
        """Custom messages other than ``refresh`` (subclasses override)."""
        self.error = f"{type(self).__name__}: unknown command {content!r}"

    def _cell_finished(self) -> None:
        if self._closing:
            return
        if not self.paused:
            self._send_update(final=True)
        elif self.live:
            self.live = False  # paused: no data, but no more updates during this cell either
        if self._display_handle is not None and self._static_seq != self.seq:
            self._display_handle.update(self._mimebundle(), raw=True)

    # ------------------------------------------------------------ static face
    def to_png(self) -> bytes:
        """The static picture of the current state, as PNG bytes (matplotlib, Agg)."""
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = self._static_figure()
        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        return buf.getvalue()

    def save_png(self, path) -> None:
        """Write :meth:`to_png` to ``path`` (through a temporary file, then rename).

        Parameters
        ----------
        path : str or os.PathLike
            Destination file; its folder must exist.
        """
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ValueError(
                f"{type(self).__name__}.save_png: folder {folder!r} does not exist (path {path!r})"
            )
        data = self.to_png()
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".png.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _mimebundle(self) -> dict:
        self._static_seq = self.seq
        data = {
            "text/plain": self.summary_text(),
            "image/png": base64.b64encode(self.to_png()).decode("ascii"),
        }
        if self.comm is not None:
            data["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2,
                "version_minor": 1,
                "model_id": self.model_id,
            }
        return data

    def _repr_mimebundle_(self, **kwargs):
        return self._mimebundle()

    def _ipython_display_(self):
        from IPython.display import display

        handle = display(self._mimebundle(), raw=True, display_id=True)
        if handle is not None:
            self._display_handle = handle

    def close(self) -> None:
        """Stop observing, stop sending and close the comm."""
        self._closing = True
        self._detach()
        _LIVE.discard(self)
        super().close()

    def _detach(self) -> None:
        """Unregister observers (subclasses override)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} seq={self.seq}>"


def now() -> float:
    """The default clock (exposed for symmetry with tests' fake clocks)."""
    return time.monotonic()
