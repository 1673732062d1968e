"""SageMaker endpoints in the local cloud: a model served as the scikit-learn container serves it.

:class:`ModelServer` runs ``model_server.py`` (the container's serving stack) as a local process on
loopback; ``framework/`` holds the ``sagemaker_containers`` stand-in that the model's code imports.
"""

from localcloud.sagemaker.serving.contract import ModelServerError
from localcloud.sagemaker.serving.process import Invocation, ModelServer

__all__ = ["Invocation", "ModelServer", "ModelServerError"]
