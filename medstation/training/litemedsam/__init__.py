"""LiteMedSAM fine-tuning: training examples (``data``), the optimiser loop (``finetune``), one run in the
worker (``run``) and the learning-rate x epochs search (``search``)."""
