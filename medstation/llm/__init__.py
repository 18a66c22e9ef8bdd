"""llm domain package (Qt-free)."""
