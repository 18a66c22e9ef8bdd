"""From a question to a stored, cited answer: prompts, citations, grounded quotes, the answer job, conversations."""
