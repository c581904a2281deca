"""Incident actions: one form spec per domain command, server-side validation, one dispatcher."""
