"""The networks room: each net is its ordered layers plus a last layer, on the base ``nn.nets.base.Net``."""
