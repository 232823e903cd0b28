"""`qllm robustness`: would the adapter survive a real quantum device (shots, noise, ablation)?"""
