"""A/B comparison of a candidate with the active version: the decision rule (``ab``), paired statistics
(``stats``), note-drafting A/B (``notes``), the promotion gate (``gate``) and the stored runs (``service``)."""
