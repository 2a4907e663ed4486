"""modelrouter: route LLM requests to providers whose terms you accept.

Models decide capability; providers decide terms. `route()` explains how a request would be
routed under a policy; `Engine` holds the catalog, config and router the gateway uses.
"""

from importlib.metadata import version

from modelrouter.engine import Engine, route
from modelrouter.routing.policy import Policy
from modelrouter.routing.select import Decision, Needs

__version__ = version("modelrouter")
__all__ = ["Decision", "Engine", "Needs", "Policy", "__version__", "route"]
