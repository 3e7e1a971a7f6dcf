"""Load generation and measurement: ``connectfour bench``."""
