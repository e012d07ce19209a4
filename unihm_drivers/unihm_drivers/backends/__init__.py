"""Device backends; each module registers its Driver subclass by name when imported."""
