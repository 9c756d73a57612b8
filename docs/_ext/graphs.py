"""The graphs the documentation embeds as live explorers.

``live_explorers.py`` writes each one with ``to_html`` when the site is built, and the
pages show this very code (``literalinclude``), so what a reader sees stepping is what
the code on the page computes.
"""
import random

import numpy as np

from autograd import Value
from nn import TwoLayerNet


def apple_orange():
    """The book's figure 5-17: two apples and three oranges, with tax."""
    apple, apple_num = Value(100, label="apple"), Value(2, label="apple_num")
    orange, orange_num = Value(150, label="orange"), Value(3, label="orange_num")
    tax = Value(1.1, label="tax")
    apple_price = apple * apple_num
    apple_price.label = "apple_price"  # intermediate nodes get their names this way
    orange_price = orange * orange_num
    orange_price.label = "orange_price"
    all_price = apple_price + orange_price
    all_price.label = "all_price"
    price = all_price * tax
    price.label = "price"
    return price


def sigmoid_node(x=0.5):
    """The book's figure 5-19: y = 1 / (1 + exp(-x)) as four nodes."""
    x = Value(x, label="x")
    minus_x = x * -1
    minus_x.label = "-x"
    e = minus_x.exp()
    e.label = "exp(-x)"
    denominator = e + 1
    denominator.label = "1 + exp(-x)"
    y = 1 / denominator
    y.label = "y"
    return y


def small_mlp(sizes=(2, 3, 1), seed=0):
    """A 2-3-1 perceptron with tanh, on one point: squared error against the target 1."""
    rnd = random.Random(seed)
    x = [Value(rnd.uniform(-1, 1), label=f"x{i}") for i in range(sizes[0])]
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        outs = []
        for j in range(n_out):
            s = Value(0.0, label=f"b{k}.{j}")
            for i in range(n_in):
                s = s + Value(rnd.uniform(-1, 1), label=f"w{k}.{j}{i}") * x[i]
            s.label = f"a{k}.{j}"
            outs.append(s.tanh() if k < len(sizes) - 2 else s)
        x = outs
    loss = (x[0] - 1.0) ** 2
    loss.label = "loss"
    return loss


def two_layer_net():
    """TwoLayerNet(2, 3, 2) on two samples: small enough to expand into scalars."""
    net = TwoLayerNet(input_size=2, hidden_size=3, output_size=2, weight_init_std=1.0, rng=0)
    x = np.array([[0.5, -1.0], [1.5, 0.25]])
    t = np.array([0, 1])  # class indices (one-hot rows work too)
    return net, x, t
