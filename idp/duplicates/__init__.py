"""Duplicate readers: matching features, blocking keys, the match model, the
review queue, and batch and online detection (DESIGN "Duplicates and merge")."""
