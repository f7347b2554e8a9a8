"""Measuring erasure: named, versioned protocols."""
