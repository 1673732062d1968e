"""Ground truth: labels uploaded under ``feedback/<dataset>/``, checked and joined with their requests."""
