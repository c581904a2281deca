"""Repositories: batch-oriented functions over an open connection (one query per batch, not per row)."""
