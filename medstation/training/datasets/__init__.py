"""Training datasets: where cases come from (``sources``), how they are checked (``quality``), scrubbed
(``deid_text``) and split (``splits``), and the versioned snapshots they become (``snapshots``).

The snapshot API is this package's API (``datasets.get_version``, ``datasets.seg_rows`` ...).
"""

from medstation.training.datasets.snapshots import (STRATIFIED_RULE, DatasetError, DatasetVersionInfo,
                                                    build_snapshot, get_version, list_versions, note_rows, seg_rows)

__all__ = ["STRATIFIED_RULE", "DatasetError", "DatasetVersionInfo", "build_snapshot", "get_version",
           "list_versions", "note_rows", "seg_rows"]
