"""One construct per capability; each exposes what it built as attributes."""
