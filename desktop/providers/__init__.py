"""Model back-ends (Ollama, Mistral) behind small protocols; SDK errors become core.errors."""
