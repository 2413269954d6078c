"""JSON Schemas of the three public contracts (package data)."""
