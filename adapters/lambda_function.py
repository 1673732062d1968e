"""One Lambda function's wiring: Powertools, its settings, its adapters, its handler's decorators.

Every handler needs the same things around its one use case: a logger, a tracer and metrics (named by
the environment the construct sets: ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``), its
settings read from the environment once per execution environment, AWS adapters created on first use
and reused by later invocations, and the same decorators in the same order. A handler module declares
``function = LambdaFunction(TrainingGateSettings, __file__)`` (its model in
``adapters.function_settings``), ``store = function.adapter(lambda s: S3ArtifactStore(s.data_bucket))``,
and decorates its handler with
:meth:`LambdaFunction.handler` (an event a Powertools data class reads) or :meth:`LambdaFunction.step`
(a state of a workflow: what it raises reaches the workflow bounded).

The Powertools objects are made when the handler module is imported, as on Lambda: each handler module
has its own, named by the environment of that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adapters.environment import from_environment
from domain.state_limits import bounded_errors

if TYPE_CHECKING:
    # Powertools' data classes are one package of forty modules: imported by the handlers that read one.
    from aws_lambda_powertools.utilities.data_classes.common import DictWrapper

__all__ = ["LambdaContext", "LambdaFunction", "emf_line"]


def emf_line(
    metrics: Iterable[tuple[str, MetricUnit, float]],
    dimensions: Iterable[tuple[str, str]],
    *,
    at: datetime | None = None,
    namespace: str | None = None,
) -> None:
    """Print one EMF line: ``metrics`` (name, unit, value) with exactly ``dimensions``, no ``service``.

    Parameters
    ----------
    metrics : iterable of (str, MetricUnit, float)
    dimensions : iterable of (str, str)
    at : datetime, optional
        The datapoints' time; default now.
    namespace : str, optional
        Default: ``POWERTOOLS_METRICS_NAMESPACE``.
    """
    # service="": no default dimension (Powertools takes None, not "", as "read the environment").
    line = AmazonCloudWatchEMFProvider(service="", namespace=namespace)
    for name, unit, value in metrics:
        line.add_metric(name=name, unit=unit, value=value)
    for dimension, dimension_value in dimensions:
        line.add_dimension(name=dimension, value=dimension_value)
    if at is not None:
        line.set_timestamp(at)
    line.flush_metrics()


SettingsT = TypeVar("SettingsT", bound=BaseModel)
AdapterT = TypeVar("AdapterT")
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


class LambdaFunction(Generic[SettingsT]):
    """A function's Powertools objects, settings and adapters, made once per execution environment.

    Parameters
    ----------
    settings : type
        The pydantic model of the function's environment (``adapters.environment``).
    module_file : str
        The handler module's ``__file__``: its folder holds the files generated at synth
        (``contracts.json``, ``training.json``, ``serving.json``).
    observed : bool
        False for a function that only logs: no trace of its calls, no metrics.

    Attributes
    ----------
    logger, tracer, metrics
        Powertools' objects, for the handler to log, trace and count with (no tracer for a function
        that only logs).
    here : Path
        The handler's folder.
    """

    def __init__(self, settings: type[SettingsT], module_file: str, *, observed: bool = True) -> None:
        self.logger = Logger()
        # Traces AWS calls (nothing else here speaks HTTP). A function that only logs has no tracer:
        # Powertools' would import the X-Ray SDK into its cold start.
        self.tracer = Tracer(patch_modules=["boto3"]) if observed else None
        self.metrics = Metrics()
        self.here = Path(module_file).parent
        self._cached: list[Any] = []
        self.settings: Callable[[], SettingsT] = self._remembered(lambda: from_environment(settings))

    def adapter(self, build: Callable[[SettingsT], AdapterT]) -> Callable[[], AdapterT]:
        """What ``build`` makes of the settings, made on first use and reused by later invocations.

        Parameters
        ----------
        build : callable
            From the function's settings to an adapter (or a tuple of them).

        Returns
        -------
        callable
            Without arguments, the adapter.
        """
        return self._remembered(lambda: build(self.settings()))

    def forget(self) -> None:
        """Read the settings and make the adapters again on next use (a test's new environment)."""
        for cached in self._cached:
            cached.cache_clear()

    def handler(self, source: type[DictWrapper] | None = None) -> Callable[[HandlerT], HandlerT]:
        """Decorate a handler: Lambda context in the logs, traced, metrics flushed, event typed.

        Parameters
        ----------
        source : type, optional
            The Powertools data class the event is read as (``EventBridgeEvent`` ...); none: a dict.

        Returns
        -------
        callable
            The decorator.
        """

        def decorate(function: HandlerT) -> HandlerT:
            wrapped: Any = function
            if source is not None:
                from aws_lambda_powertools.utilities.data_classes import event_source

                wrapped = event_source(data_class=source)(wrapped)
            if self.tracer is not None:
                wrapped = self.tracer.capture_lambda_handler(self.metrics.log_metrics(wrapped))
            return cast(HandlerT, self.logger.inject_lambda_context(clear_state=True)(wrapped))

        return decorate

    def step(self, function: HandlerT) -> HandlerT:
        """Decorate a workflow state's handler: as :meth:`handler`, and what it raises is bounded.

        The error becomes the workflow's ``$.error`` (256 KiB a state): bounded nearest the function,
        so that what Powertools logs and traces is the bounded error too.
        """
        return self.handler()(cast(HandlerT, bounded_errors(function)))

    def tag(self, dataset: str, /, **keys: str) -> None:
        """Put ``keys`` on the invocation's log lines and its dataset on its metrics (a dimension)."""
        self.logger.append_keys(**keys)
        self.metrics.add_dimension(name="dataset", value=dataset)

    def count(self, name: str, value: float = 1) -> None:
        """Add ``value`` to the metric ``name`` (a count) of this invocation."""
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def publish(
        self, name: str, value: float, dimensions: Mapping[str, str], *, at: datetime | None = None
    ) -> None:
        """Publish one count now, with exactly ``dimensions``: an EMF line of its own, no ``service``.

        For the metrics that alarms and dashboards find by their dimensions (``AcceptedVersions`` by
        ``{Dataset}``): Powertools adds the function's ``service`` to its metrics, and CloudWatch keeps
        a metric per set of dimensions, so an alarm on ``{Dataset}`` would never see them. ``at`` is the
        datapoint's time (now by default). The namespace is the function's (``POWERTOOLS_METRICS_NAMESPACE``).
        """
        emf_line([(name, MetricUnit.Count, value)], dimensions.items(), at=at)

    def report(self, summary: str, facts: dict[str, Any], error: BaseException | None = None) -> None:
        """Log the invocation's outcome: an error with its trace when there is one, else information."""
        # The line's location is the handler's, which called this (stacklevel), as when it logged itself.
        if error is None:
            self.logger.info(summary, extra=facts, stacklevel=3)
        else:
            self.logger.error(summary, extra=facts, exc_info=error, stacklevel=3)

    @contextmanager
    def noting(self, error: type[Exception], *, metric: str, message: str) -> Iterator[None]:
        """Count and log ``error`` on its way out of the block, and let it go on.

        For an error the workflow expects and catches by name (``SplitRejectedError``): a metric to
        alarm on, and a warning whose ``reasons`` are the error's message.
        """
        try:
            yield
        except error as raised:
            self.count(metric)
            # Located at the handler's ``with`` (past contextlib's frame), as when it logged itself.
            self.logger.warning(message, extra={"reasons": str(raised)}, stacklevel=4)
            raise

    def _remembered(self, make: Callable[[], AdapterT]) -> Callable[[], AdapterT]:
        cached = cache(make)
        self._cached.append(cached)
        return cached
