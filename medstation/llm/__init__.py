"""Local language models and cited answers (Qt-free).

``gguf`` reads model headers; ``catalogue`` lists and registers models;
``local`` (llama.cpp) and ``openai_http`` (OpenAI-compatible server) are the
chat backends; ``prompt``, ``budget`` and ``citations`` build fenced prompts
that fit the context and validate markers; ``relevance`` decides "not in the
knowledge base"; ``grounded`` quotes passage sentences; ``markup`` strips echoed
prompt markup; ``support`` checks every answer sentence against the passages;
``provenance`` is the stored record; ``rag_answer`` is the answer job;
``reasoning`` the differential mode; ``conversations`` the stored history and
review decisions; ``service.LLMService`` ties them together.
"""
