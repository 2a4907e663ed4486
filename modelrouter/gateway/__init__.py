"""The gateway: the OpenAI and Anthropic front doors, routing with fallbacks, honest streaming."""
