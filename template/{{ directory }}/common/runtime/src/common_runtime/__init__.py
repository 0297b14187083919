"""The observability runtime of this repository's APIs: one implementation, every API.

Each API's ``init.py`` builds a :class:`Service` and exports its ``app``, ``logger``,
``tracer`` and ``metrics``, with :class:`JsonStreamingResponse` for streamed routes and
``Caller`` (a :class:`CallerInfo` given by :func:`caller_dependency`) for who is calling.
"""

from common_runtime.caller import CallerInfo, caller_dependency
from common_runtime.service import Service
from common_runtime.streaming import JsonStreamingResponse

__all__ = ["CallerInfo", "JsonStreamingResponse", "Service", "caller_dependency"]
