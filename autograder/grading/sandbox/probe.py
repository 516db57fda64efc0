"""Which isolation this machine gives (isolation(): the strongest that works, else a refusal),
proved by starting a learner process in it. That learner has run nothing, so it is kept as a spare
and learner_process() hands it to the first submission it fits: grading one notebook starts one
learner Python, not two."""

import os
import shutil
import subprocess
import sys
import threading
from functools import cache

from .kinds import HOW_TO_ISOLATE, Isolation, NoIsolation
from .learner import CLOSING, GradingStopped, LearnerProcess
from .limits import LearnerProcessDied, LearnerTimeout, Limits


def isolation(unsandboxed: bool = False) -> Isolation:
    """The strongest isolation this machine gives; NONE only when `unsandboxed`, else NoIsolation."""
    found = available_isolation()
    if found is not None:
        return found
    if unsandboxed:
        return Isolation.NONE
    raise NoIsolation(HOW_TO_ISOLATE)


@cache
def available_isolation() -> Isolation | None:
    if sys.platform != "linux":
        return None
    if os.geteuid() == 0:
        kinds = [Isolation.ROOT_NAMESPACES, Isolation.SEPARATE_UID]
    else:
        kinds = [Isolation.USER_NAMESPACE]
    for kind in kinds:
        if works(kind):
            return kind
    return None


def works(kind: Isolation) -> bool:
    """True when a learner Python (with NumPy) starts and exits cleanly in this kind of sandbox."""
    if kind in (Isolation.USER_NAMESPACE, Isolation.ROOT_NAMESPACES) and not shutil.which("bwrap"):
        return False
    try:
        process = LearnerProcess(Limits(), kind)
    except (OSError, subprocess.SubprocessError, LearnerProcessDied, LearnerTimeout):
        return False
    with SPARE_LOCK:
        SPARES.append(process)
    return True


# The learner process that proved a sandbox works has run nothing: the first submission whose
# limits it was started with takes it, so grading one notebook starts one learner Python, not two.
SPARES: list[LearnerProcess] = []
SPARE_LOCK = threading.Lock()


def learner_process(limits: Limits, kind: Isolation, modules: dict[str, str] | None = None) -> LearnerProcess:
    """A fresh learner process in a sandbox of `kind`: a spare that fits, else a new one.
    Raises GradingStopped once shut_down() has been called."""
    if CLOSING.is_set():
        raise GradingStopped()
    with SPARE_LOCK:
        fits = [spare for spare in SPARES if spare.kind is kind and spare.config == limits.process_config()]
        if fits:
            SPARES.remove(fits[0])
    if fits and fits[0].running():
        return fits[0]
    if fits:
        fits[0].stop()
    return LearnerProcess(limits, kind, modules)


def stop_spares() -> None:
    with SPARE_LOCK:
        spares = SPARES[:]
        SPARES.clear()
    for spare in spares:
        spare.stop()
