"""The data plane: dataset contracts, validation of an upload, and what an upload becomes."""
