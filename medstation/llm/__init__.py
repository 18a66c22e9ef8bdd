"""Local language models and cited answers (Qt-free).

Three parts:

* ``backends/``: what runs a model. ``base`` (the ``ChatBackend`` protocol and generation
  settings), ``local`` (llama.cpp in this process), ``openai_http`` (an OpenAI-compatible
  server), ``gguf`` (model headers), ``catalogue`` (which models exist and their registry
  entries), ``cpu_share`` (threads per answer).
* ``answer/``: what turns a question into a stored, cited answer. ``prompt`` and ``budget``
  build fenced prompts that fit the context; ``citations`` validates markers; ``relevance``
  decides "not in the knowledge base"; ``question_cues``, ``passage_units`` and ``grounded``
  quote passage sentences; ``markup`` strips echoed prompt markup; ``provenance`` is the
  stored record; ``rag_answer`` is the answer job; ``reasoning`` the differential mode;
  ``message_store`` the stored conversations and review decisions; ``conversation`` the
  Chat tab's Qt-free logic (optimistic message list, regeneration policy).
* The support checks, here at the top: ``support`` checks every answer sentence against the
  passages, with ``meaning``, ``polarity``/``polarity_words`` and ``safety``.

``service.LLMService`` ties the model choice and the loaded backend together; ``errors``
holds the errors every part raises.
"""
