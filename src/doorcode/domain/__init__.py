"""Pure domain logic: standard library only, the clock and randomness arrive as arguments."""
