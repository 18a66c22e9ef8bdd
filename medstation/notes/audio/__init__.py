"""Session recordings to speaker-labelled transcripts, on this machine (faster-whisper, CTranslate2).

* :mod:`.model` — the bundled Whisper base model (rebuilt from two pip packages, checksum checked)
  and any CTranslate2 Whisper folder dropped into ``models/``;
* :mod:`.decode` — reading WAV/MP3/M4A/OGG/FLAC (PyAV) with clear refusals for bad input;
* :mod:`.recognise` — the transcription job (VAD, hallucination guards, word timestamps);
* :mod:`.speakers` — speaker turns split by pauses, rename/merge/reassign, text and JSON output;
* :mod:`.wer` — word error rate, for the tests and the benchmark.

No Qt, no network: nothing here downloads anything.
"""
