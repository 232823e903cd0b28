"""`qllm compare`: the seed's comparison of methods, over several seeds, as one reproducible command."""
