"""API Gateway constructs and what they share."""
