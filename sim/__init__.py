"""Shequ (社区): an agent-based simulation of urban community governance on Mesa."""

__version__ = "0.1.0"
