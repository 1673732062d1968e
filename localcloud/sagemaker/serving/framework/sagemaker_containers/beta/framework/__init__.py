"""``from sagemaker_containers.beta.framework import worker, encoders, content_types, errors``."""

from sagemaker_containers import _content_types as content_types
from sagemaker_containers import _encoders as encoders
from sagemaker_containers import _errors as errors
from sagemaker_containers import _transformer as transformer
from sagemaker_containers import _worker as worker

__all__ = ["content_types", "encoders", "errors", "transformer", "worker"]
