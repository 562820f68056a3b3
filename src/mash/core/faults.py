"""Named fault points for crash tests (kill -9 at an exact step).

    from mash.core.faults import fault_point
    fault_point("audit.seal.after_batch")

does nothing unless the environment variable MASH_FAULT_POINT, read at call time, names that point
(a comma-separated list may name several); then the process kills itself with SIGKILL, as a power cut
or `kill -9` would: no exception handler, `finally`, atexit hook or transaction rollback runs in the
process, so the database sees only what it had already committed. The variable is set only by the
subprocess fault tests; in production it is never set and a call costs one dictionary lookup.
"""

import os
import signal

ENV_VAR = "MASH_FAULT_POINT"


def fault_point(name: str) -> None:
    """Kill this process with SIGKILL if MASH_FAULT_POINT names `name`; otherwise do nothing."""
    wanted = os.environ.get(ENV_VAR)
    if not wanted:
        return
    if name in (part.strip() for part in wanted.split(",")):
        os.kill(os.getpid(), signal.SIGKILL)
