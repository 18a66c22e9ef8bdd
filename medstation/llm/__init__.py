"""Local language models and cited answers (Qt-free).

``gguf`` reads model headers; ``catalogue`` lists and registers models;
``local`` (llama.cpp) and ``openai_http`` (OpenAI-compatible server) are the
chat backends; ``prompt``, ``budget``, ``citations`` and ``attribution`` build
fenced prompts that fit the context and check the answer's sources;
``rag_answer`` is the answer job; ``reasoning`` the differential mode;
``conversations`` the stored history; ``service.LLMService`` ties them together.
"""
