"""The observability runtime of this repository's APIs: one implementation, every API.

Each API's ``init.py`` builds a :class:`Service` and exports its ``app``, ``logger``,
``tracer`` and ``metrics``, with :class:`JsonStreamingResponse` for streamed routes.
"""

from common_runtime.service import Service
from common_runtime.streaming import JsonStreamingResponse

__all__ = ["JsonStreamingResponse", "Service"]
