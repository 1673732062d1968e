"""What the training job runs: preprocessing from the contract, the model, its evaluation and baselines.

Shipped to SageMaker as part of ``training/`` (the source directory), without the platform's
``domain`` package, and run by the scikit-learn container that ``training/container.toml`` records.
Modules import each other relatively so that they work both as ``mlops_training`` (in the container)
and as ``training.mlops_training`` (in the platform's tests).
"""
