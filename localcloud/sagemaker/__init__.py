"""SageMaker in the local cloud: training jobs that really run, as local processes."""
