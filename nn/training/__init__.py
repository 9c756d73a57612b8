"""The training room: the optimizers, the training loop and the book's Trainer."""
