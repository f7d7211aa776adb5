"""Fixtures for the headless widget tests: a recording comm and a fake clock."""

from __future__ import annotations

import json

import comm
import pytest

from paramlab.widgets._transport import RecordingComm


@pytest.fixture
def recording(monkeypatch):
    """Every widget created in the test talks to a RecordingComm; yields the list of them."""
    RecordingComm.instances = []
    monkeypatch.setattr(comm, "create_comm", RecordingComm.create)
    yield RecordingComm.instances
    for c in RecordingComm.instances:  # everything sent is valid Jupyter JSON (no NaN/inf)
        json.dumps(c.opened["data"], allow_nan=False)
        for m in c.messages:
            RecordingComm.nbytes(m)
    RecordingComm.instances = []


class FakeClock:
    """A clock the test advances by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()
