"""Constrained scalar types shared by signatures (they become the spec schema; see registry)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

PosInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(gt=0, le=1)]
Seed = Annotated[int, Field(ge=0)]
Kappa = Annotated[float, Field(ge=1)]
