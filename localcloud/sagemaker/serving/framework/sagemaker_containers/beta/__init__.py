"""``sagemaker_containers.beta``: the namespace user code imports the framework modules from."""
