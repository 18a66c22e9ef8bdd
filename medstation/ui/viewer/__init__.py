"""The Viewer tab: series browser, slice views, measurement and segmentation tools."""
