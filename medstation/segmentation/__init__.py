"""segmentation domain package (Qt-free)."""
