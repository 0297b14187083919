"""The API package: routes in ``main``, app set-up and observability in ``init``."""
