"""The data room: MNIST (load_mnist) and the atomic file writes every output goes through."""
