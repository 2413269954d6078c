"""Long-term literature memory: the offline arXiv mirror, the vector memory and the
publication store. The lowest layer: nothing here imports `agents` or `graph`."""
