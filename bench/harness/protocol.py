"""JSON-lines protocol between the harness and its worker subprocesses.

Each request is one JSON object on one line of the worker's stdin; each reply
is one JSON object on one line of its stdout::

    {"cmd": "info"}                                 -> {"ok": true, "info": {...}}
    {"cmd": "setup", "case": "W4", "params": {...}} -> {"ok": true}
    {"cmd": "run", "case": "W4"}                    -> {"ok": true, "seconds": 0.031}
    {"cmd": "peak", "case": "W4"}                   -> {"ok": true, "bytes": 1234}
    {"cmd": "teardown", "case": "W4"}               -> {"ok": true}
    {"cmd": "quit"}                                 -> {"ok": true}

A failed request answers ``{"ok": false, "error": "<Type>: <message>"}`` and
the worker keeps serving.  The worker moves its file descriptor 1 to stderr
before serving, so stray prints (from Python or C libraries) cannot corrupt
the protocol stream.

Standard library only: the server side runs under the peers' interpreters.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from harness.timing import peak_bytes, time_once

#: Seconds a worker may take to answer one request before it is presumed hung.
DEFAULT_TIMEOUT = 600.0


def short_error(exc: BaseException, limit: int = 160) -> str:
    """Return ``"<Type>: <first line of message>"`` shortened to ``limit`` characters."""
    text = str(exc).strip().splitlines()
    message = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return message if len(message) <= limit else message[: limit - 3] + "..."


# --------------------------------------------------------------------- server


def serve(setup: Callable[[str, dict], Any], info: Callable[[], dict]) -> None:
    """Serve protocol requests on stdin/stdout until ``quit`` or end of input.

    Parameters
    ----------
    setup : callable
        ``setup(case_id, params)`` returning a prepared case (an object with
        ``run()`` and ``close()``).
    info : callable
        Returns a JSON-serialisable dict describing the worker (versions...).
    """
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    prepared: dict[str, Any] = {}

    def handle(request: dict) -> dict:
        cmd = request.get("cmd")
        case = request.get("case")
        if cmd == "info":
            return {"info": info()}
        if cmd == "setup":
            if case in prepared:
                prepared.pop(case).close()
            prepared[case] = setup(case, request.get("params", {}))
            return {}
        if cmd == "run":
            return {"seconds": time_once(prepared[case].run)}
        if cmd == "peak":
            return {"bytes": peak_bytes(prepared[case].run)}
        if cmd == "teardown":
            item = prepared.pop(case, None)
            if item is not None:
                item.close()
            return {}
        raise ValueError(f"unknown command {cmd!r}")

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
        except ValueError as exc:
            reply = {"ok": False, "error": short_error(exc)}
        else:
            if request.get("cmd") == "quit":
                out.write(json.dumps({"ok": True}) + "\n")
                break
            try:
                reply = dict(handle(request), ok=True)
            except Exception as exc:
                traceback.print_exc(file=sys.stderr)
                reply = {"ok": False, "error": short_error(exc)}
        out.write(json.dumps(reply) + "\n")
    for item in prepared.values():
        item.close()


# --------------------------------------------------------------------- client


class WorkerError(RuntimeError):
    """A worker answered with an error, died, or did not answer in time."""


class WorkerClient:
    """A long-lived worker subprocess speaking the JSON-lines protocol.

    Parameters
    ----------
    argv : list of str
        Command line starting the worker.
    env : dict
        Environment of the worker.
    log_path : str
        File receiving the worker's stderr.
    """

    def __init__(self, argv: list[str], env: dict, log_path: str):
        self.argv = argv
        self.log_path = log_path
        with open(log_path, "ab") as log:  # the child keeps its own descriptor
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                text=True,
                bufsize=1,
            )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        for line in self._proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def alive(self) -> bool:
        """Return whether the worker process is still running."""
        return self._proc.poll() is None

    def log_tail(self, lines: int = 3) -> str:
        """Return the last ``lines`` lines of the worker's stderr log."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                tail = fh.read().strip().splitlines()[-lines:]
        except OSError:
            return ""
        return " | ".join(tail)

    def request(self, cmd: str, timeout: float = DEFAULT_TIMEOUT, **fields: Any) -> dict:
        """Send one request and return the reply.

        Raises
        ------
        WorkerError
            If the worker replies with an error, exits, or exceeds ``timeout``.
        """
        if not self.alive():
            raise WorkerError(f"worker exited (code {self._proc.returncode}): {self.log_tail()}")
        try:
            self._proc.stdin.write(json.dumps(dict(fields, cmd=cmd)) + "\n")
            self._proc.stdin.flush()
        except OSError as exc:
            raise WorkerError(f"worker pipe closed: {exc}; {self.log_tail()}") from exc
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self.kill()
                raise WorkerError(f"no answer to {cmd!r} within {timeout:.0f} s") from None
            if line is None:
                self._proc.wait()
                raise WorkerError(
                    f"worker exited (code {self._proc.returncode}): {self.log_tail()}"
                )
            try:
                reply = json.loads(line)
            except ValueError:
                continue  # not a protocol line; ignore it
            break
        if not reply.get("ok"):
            raise WorkerError(reply.get("error", "unknown worker error"))
        return reply

    def kill(self) -> None:
        """Terminate the worker process now."""
        if self.alive():
            self._proc.kill()
            self._proc.wait()

    def close(self) -> None:
        """Ask the worker to quit, then make sure it is gone."""
        if self.alive():
            try:
                self.request("quit", timeout=30)
            except WorkerError:
                pass
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
