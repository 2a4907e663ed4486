"""modelrouter: route LLM requests to providers whose terms you accept."""
