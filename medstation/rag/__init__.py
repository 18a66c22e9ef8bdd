"""rag domain package (Qt-free)."""
