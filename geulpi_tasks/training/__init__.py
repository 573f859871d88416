"""Training jobs: the layer above models/, optimization/ and registry/ that turns a request into a version."""
