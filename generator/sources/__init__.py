"""Readers: each turns input files into model objects plus findings, and never raises on bad input."""
