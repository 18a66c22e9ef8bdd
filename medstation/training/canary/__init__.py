"""How candidates meet real requests: shadow runs (``shadow``), blind preference (``preference``), the
candidate models (``candidates``), what a note draft was given (``note_inputs``) and later outcomes (``outcomes``)."""
