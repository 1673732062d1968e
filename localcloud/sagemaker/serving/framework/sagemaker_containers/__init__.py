"""A minimal stand-in for ``sagemaker_containers``, the library SageMaker's framework images give user code.

Only what inference code imports is here: ``sagemaker_containers.beta.framework`` with ``worker``,
``encoders``, ``content_types`` and ``errors`` (and ``transformer``, which the model server uses). The
local model server puts the folder holding this package first on ``sys.path``, so a model's
``inference.py`` imports it exactly as it does in the scikit-learn container.
"""
