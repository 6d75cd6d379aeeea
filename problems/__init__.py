"""Problem packs: the format, its loader/validator, and the packs themselves.

Imports neither ``server`` nor ``sandbox``.
"""

from problems.loader import PACKS_DIR, PackError, PackIssue, load_pack, load_packs
from problems.model import Check, Constraint, Dimension, Problem, ProblemMeta, Question

__all__ = [
    "PACKS_DIR",
    "Check",
    "Constraint",
    "Dimension",
    "PackError",
    "PackIssue",
    "Problem",
    "ProblemMeta",
    "Question",
    "load_pack",
    "load_packs",
]
