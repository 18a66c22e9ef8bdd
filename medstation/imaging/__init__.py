"""imaging domain package (Qt-free)."""
