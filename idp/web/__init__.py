"""Pages and plain HTTP endpoints (health)."""
