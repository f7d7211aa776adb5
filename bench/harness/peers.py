"""Discovery and start-up of the peers that run in other interpreters.

A peer interpreter is found *only* through its environment variable
(``PARAMLAB_TORCH_PYTHON``, ``PARAMLAB_MXNET_PYTHON``); when the variable is
unset the peer is absent and every table says so.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from harness.protocol import WorkerClient, WorkerError
from harness.runner import WorkerContender

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: peer name -> (environment variable, worker script relative to bench/)
WORKER_PEERS = {
    "torch": ("PARAMLAB_TORCH_PYTHON", "workers/torch_worker.py"),
    "mxnet": ("PARAMLAB_MXNET_PYTHON", "workers/mxnet_worker.py"),
}

#: Seconds a worker may take to import its framework and answer ``info``.
STARTUP_TIMEOUT = 180.0


@dataclass
class WorkerPeer:
    """A worker peer: its start-up recipe, and the running contender if any."""

    name: str
    argv: list[str] | None
    log_path: str
    reason: str = ""
    info: dict = field(default_factory=dict)
    contender: WorkerContender | None = None
    measure_peak: bool = True

    def start(self) -> bool:
        """(Re)start the worker; on failure keep the reason and return False."""
        if self.argv is None:
            return False
        self.stop()
        client = WorkerClient(self.argv, _worker_env(), self.log_path)
        try:
            self.info = client.request("info", timeout=STARTUP_TIMEOUT)["info"]
        except WorkerError as exc:
            client.kill()
            client.close()
            self.reason = f"worker did not start: {exc}"
            return False
        self.contender = WorkerContender(
            self.name, client, self.info.get("cases", []), self.measure_peak
        )
        self.reason = ""
        return True

    def ensure_running(self) -> bool:
        """Restart the worker if it died; return whether it is running."""
        if self.contender is not None and self.contender.client.alive():
            return True
        return self.start()

    def stop(self) -> None:
        """Stop the worker if it runs."""
        if self.contender is not None:
            self.contender.client.close()
            self.contender = None


def _worker_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = BENCH_DIR
    env["PYTHONUNBUFFERED"] = "1"
    return env


def make_worker_peer(name: str, device: str, log_dir: str) -> WorkerPeer:
    """Return the :class:`WorkerPeer` for ``name``, started when configured.

    Parameters
    ----------
    name : str
        ``"torch"`` or ``"mxnet"``.
    device : str
        ``"cpu"`` or ``"cuda"`` (``--gpu`` runs).
    log_dir : str
        Folder for the worker's stderr log.
    """
    variable, script = WORKER_PEERS[name]
    python = os.environ.get(variable, "").strip()
    log_path = os.path.join(log_dir, f"{name}-worker.log")
    if not python:
        return WorkerPeer(name, None, log_path, reason=f"{variable} not set")
    if not os.path.exists(python):
        return WorkerPeer(name, None, log_path, reason=f"{variable}={python} does not exist")
    argv = [python, os.path.join(BENCH_DIR, script)]
    if name == "torch":
        argv += ["--device", device]
    peer = WorkerPeer(name, argv, log_path, measure_peak=device == "cpu")
    print(f"starting {name} worker: {' '.join(argv)}", file=sys.stderr)
    if peer.start() and device == "cuda" and not peer.info.get("cuda_available"):
        peer.stop()
        peer.argv = None
        peer.reason = f"{name} under {variable} has no CUDA support"
    return peer
