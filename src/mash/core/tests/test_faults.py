"""The crash-test helper: inert unless MASH_FAULT_POINT names the point, then SIGKILL."""

import signal
import subprocess
import sys

from mash.core.faults import fault_point


def test_fault_point_does_nothing_unless_named(monkeypatch):
    monkeypatch.delenv("MASH_FAULT_POINT", raising=False)
    fault_point("test.point")
    monkeypatch.setenv("MASH_FAULT_POINT", "some.other.point")
    fault_point("test.point")


def test_fault_point_kills_with_sigkill_when_named():
    code = "from mash.core.faults import fault_point\nfault_point('test.point')\nprint('survived')"
    for wanted in ("test.point", "other.point, test.point"):
        proc = subprocess.run([sys.executable, "-c", code], env={"MASH_FAULT_POINT": wanted, "PATH": "/usr/bin:/bin",
                              "PYTHONPATH": ":".join(sys.path)}, capture_output=True, text=True, timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert "survived" not in proc.stdout
