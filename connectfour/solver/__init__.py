"""The exact solver: scores in Pascal Pons' convention, an opening book, an async API."""
