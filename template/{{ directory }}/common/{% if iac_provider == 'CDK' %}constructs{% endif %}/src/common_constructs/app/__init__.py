"""Constructs specific to this repository's APIs."""
