"""Turns batch results into numbers, tables, figures and reports (reads the result store; never
re-runs the model to analyse)."""
