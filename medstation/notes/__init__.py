"""notes domain package (Qt-free)."""
