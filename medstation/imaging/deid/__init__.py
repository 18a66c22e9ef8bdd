"""De-identification of DICOM to PS3.15 Annex E, one module a step.

``profile`` (Table E.1-1 actions and options, as data) and ``attribute_types`` (PS3.3
Type 1/2/3 per attribute) say what must happen to each element; ``clean`` scrubs free
text and shifts dates; ``pseudonyms`` keeps the persistent UID/patient map; ``deidentifier``
makes the one pass over a dataset; ``pixels`` finds and masks burned-in text; ``export``
writes the files and the report (the ``medstation deid`` command and the Viewer's export).
"""
