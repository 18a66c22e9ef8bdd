"""PACS connection: echo, query, retrieve and send back, over DICOMweb or DIMSE (Qt-free).

* :mod:`.node` — a :class:`~.node.PacsNode` (where the PACS is, who we are) and the query results;
* :mod:`.messages` — every failure in plain words, with its status code and what to change;
* :mod:`.dicomweb` — QIDO-RS / WADO-RS (per series) / STOW-RS through ``dicomweb-client``;
* :mod:`.dimse` — C-ECHO / C-FIND / C-GET / C-MOVE / C-STORE through ``pynetdicom``;
* :mod:`.staging` — atomic instance writes and the staging folder a series waits in until complete;
* :mod:`.retrieve` — the retrieve job (staging → complete → moved → indexed; resumable);
* :mod:`.send` — send accepted segmentations back (audited);
* :mod:`.listener` — our C-STORE SCP, indexing studies pushed to us.
"""
