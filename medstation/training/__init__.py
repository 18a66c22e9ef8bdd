"""training domain package (Qt-free)."""
