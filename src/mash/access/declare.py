"""Declaring which access policy guards an endpoint: mash.core.declare, under the name the views import."""

from mash.core.declare import ATTRIBUTE, declared_policy, policy, policy_of

__all__ = ["ATTRIBUTE", "declared_policy", "policy", "policy_of"]
