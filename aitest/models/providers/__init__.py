"""Providers: llama_cpp (in process) and openai (any OpenAI-compatible HTTP server), behind a registry."""
