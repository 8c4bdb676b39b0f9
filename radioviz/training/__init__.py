"""Training loops.  They sit above ``models`` and ``metrics`` (they use both) and below the CLI."""
