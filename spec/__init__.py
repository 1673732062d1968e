"""The rules that the platform's Lambda functions and its training and serving code share, written once.

``domain/`` is shipped only in the Lambda assets and ``training/`` only to SageMaker, so a rule both
apply lives here, and the build ships this package with each: in every Lambda asset
(``stacks/constructs/lambda_packaging.RUNTIME_PACKAGES``), in the training job's source directory
(``sourcedir.tar.gz``) and in the model archive's ``code/`` (``mlops_training.job.ship_inference_code``).
Pure Python plus numpy and pyarrow, which the Lambda layer and the SageMaker scikit-learn image both
have; no pydantic (the image lacks it).

- :mod:`spec.values`: the contract's value rules (what text is a number, a boolean, a null or a
  timestamp; bounds and categories); the endpoint reads numbers and timestamps as Python does.
- :mod:`spec.features`: which contract columns a model learns from.
- :mod:`spec.hyperparameters`: each model family's hyperparameters, their kinds, bounds and defaults.
- :mod:`spec.profile`: the statistics profile format (format 1).
- :mod:`spec.drift`: drift statistics from a stored baseline profile, and their calibrated bands.
- :mod:`spec.metrics`: a model's metrics with bootstrap intervals, the training job's test metrics and
  the realized metrics of labelled live traffic alike.
"""
