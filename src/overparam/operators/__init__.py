"""Measurement operators 𝒜 with forward, adjoint, fast factored paths and a replica axis."""

from .base import DenseGrad, ForwardAdjoint, GradOperator, KnownProducts, LinearOperator, SymmetricPacking
from .design import GaussianDesign
from .entries import EntrySampling, sample_entries
from .gaussian import GaussianSensing
from .identity import IdentityOperator
from .matrix_free import MatrixFreeGaussianSensing
from .rank_one import RankOneSensing

__all__ = [
    "DenseGrad",
    "EntrySampling",
    "ForwardAdjoint",
    "GaussianDesign",
    "GaussianSensing",
    "GradOperator",
    "IdentityOperator",
    "KnownProducts",
    "LinearOperator",
    "MatrixFreeGaussianSensing",
    "RankOneSensing",
    "SymmetricPacking",
    "sample_entries",
]
