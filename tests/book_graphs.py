"""The book's apple-and-orange graph (figure 5-17), shared by the tests that need it."""
from autograd import Value


def apple_orange_graph():
    """``(price, [apple, apple_num, orange, orange_num, tax])``: (100*2 + 150*3) * 1.1."""
    apple, apple_num = Value(100, label="apple"), Value(2, label="apple_num")
    orange, orange_num = Value(150, label="orange"), Value(3, label="orange_num")
    tax = Value(1.1, label="tax")
    price = (apple * apple_num + orange * orange_num) * tax
    price.label = "price"
    return price, [apple, apple_num, orange, orange_num, tax]
