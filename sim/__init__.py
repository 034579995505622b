"""Shequ (社区): an agent-based simulation of urban community governance on Mesa."""

__version__ = "0.1.0"

# The model's version: the day of the last change to what a run of a given scenario and seed
# produces (a change that keeps every table identical, such as a faster phase, keeps it). A
# result folder records it, and refuses to add runs of another version to its own: two models'
# runs in one folder would be compared as if they were one. Bump it with any change of results.
MODEL_VERSION = "2026-11-30"
