"""Training: a dataset's training configuration, pipeline runs, preparing a run, the gate, registration."""
