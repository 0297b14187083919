"""One construct per API, named after it."""
