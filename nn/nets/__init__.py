"""The networks room: each net is its ordered layers plus a last layer."""
