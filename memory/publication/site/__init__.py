"""Static site builder for the public index."""
