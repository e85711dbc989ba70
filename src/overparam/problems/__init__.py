"""Problems: operator + observations + loss (+ ground truth for metrics), and their factories."""

from .factories import (
    asymmetric_sensing,
    from_arrays,
    matrix_completion,
    matrix_factorization,
    matrix_sensing,
    one_bit_completion,
    quadratic_network,
    sparse_regression,
)
from .problem import Problem
from .truth import low_rank_truth, spectrum_from_kappa

__all__ = [
    "Problem",
    "asymmetric_sensing",
    "from_arrays",
    "low_rank_truth",
    "matrix_completion",
    "matrix_factorization",
    "matrix_sensing",
    "one_bit_completion",
    "quadratic_network",
    "sparse_regression",
    "spectrum_from_kappa",
]
