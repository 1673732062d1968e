"""The IAM bundle every component of a local cloud receives: the policies, the sessions, the enforcer."""

from __future__ import annotations

from dataclasses import dataclass

from localcloud.iam.enforcer import Enforcer
from localcloud.iam.policies import PolicyStore
from localcloud.iam.sessions import Sessions


@dataclass
class LocalIam:
    """One local cloud's policy store, role sessions and enforcer (sharing the store's cache)."""

    store: PolicyStore
    sessions: Sessions
    enforcer: Enforcer

    @classmethod
    def create(cls, *, account_id: str, region: str, enforce: bool) -> LocalIam:
        """The bundle for ``account_id`` in ``region``; ``enforce`` False lets every request through.

        Parameters
        ----------
        account_id, region : str
            The local cloud's account and region.
        enforce : bool
            Whether the enforcer decides requests (False: it allows everything and records nothing;
            sessions are still issued and trust policies still checked).
        """
        store = PolicyStore(account_id, region)
        return cls(
            store=store,
            sessions=Sessions(store, account_id=account_id, region=region),
            enforcer=Enforcer(store, account_id=account_id, region=region, enabled=enforce),
        )
