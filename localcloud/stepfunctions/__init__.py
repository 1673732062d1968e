"""Step Functions in the local cloud: what moto's ASL interpreter lacks to run the synthesized machines."""
