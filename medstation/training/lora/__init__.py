"""LoRA note-drafting adapters: the GGUF base as torch (``model``), training pairs (``data``), the loop
(``train``), the llama.cpp adapter file (``gguf_adapter``) and one run in the worker (``run``)."""
