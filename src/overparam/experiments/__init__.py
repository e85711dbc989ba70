"""Experiments at scale: typed specs, sweeps, the results store, executors and claims."""

from .claims import Claim, write_claims
from .errors import SpecError
from .execute import build, execute
from .executors import run_sweep
from .spec import RunSpec
from .store import Store
from .sweep import expand, grid, load_sweep

__all__ = ["Claim", "RunSpec", "SpecError", "Store", "build", "execute", "expand", "grid", "load_sweep",
           "run_sweep", "write_claims"]
