"""`qllm compare`: quantum-llm's comparison of methods, over several seeds, as one reproducible command."""
