"""Chat backends: llama.cpp in-process, an OpenAI-compatible server, GGUF headers and the model catalogue."""
