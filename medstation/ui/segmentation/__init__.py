"""Segmentation side panel for the viewer (Qt); the logic lives in ``medstation.segmentation``."""
