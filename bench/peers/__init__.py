"""modelrouter beside LiteLLM and Portkey on this machine: see `run.py`."""
