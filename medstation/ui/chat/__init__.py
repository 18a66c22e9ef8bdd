"""The Chat tab: cited answers from the local LLM over the knowledge base."""
