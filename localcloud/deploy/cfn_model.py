"""What moto's CloudFormation reads of a resource model, for the models the local cloud adds.

The models of the types moto's CloudFormation lacks (``apigateway_models``, ``scheduler_cfn``) are
duck-typed like moto's ``CloudFormationModel`` subclasses without being ones: moto registers every
subclass of that class for good (at import, in a cached map), while these are only used while a local
cloud runs (``moto_cfn`` adds them to the map it patches). This base gives them the members moto reads
that are the same for all: the type, the name property, the attributes (the ARN by default), the physical
id, creation.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LocalModel:
    """A model's members moto reads; a subclass sets the class variables and ``physical_id``."""

    resource_type: ClassVar[str]
    name_property: ClassVar[str] = "Name"
    attributes: ClassVar[frozenset[str]] = frozenset()
    physical_id: str  # what Ref gives
    arn: str  # what Fn::GetAtt Arn gives, for a model whose attributes are {"Arn"}

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.resource_type

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.name_property

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.attributes

    def get_cfn_attribute(self, attribute_name: str) -> str:
        """``Fn::GetAtt``: the ARN (moto asks only for ``attributes``; a model with others overrides it)."""
        return self.arn

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        """Never called: moto deletes through ``delete`` when the model has one."""

    def is_created(self) -> bool:
        return True
