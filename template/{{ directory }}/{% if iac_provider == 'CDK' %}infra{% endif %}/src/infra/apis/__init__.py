"""One module per API, each with an ``add(stack)`` function; the stack calls them all."""
