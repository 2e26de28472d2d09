"""The compliance manager of DC-S and its clients of nova and placement."""
