"""Course tools for "Convolutional networks from scratch": build, reference data and checks."""
