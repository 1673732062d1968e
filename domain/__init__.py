"""The platform's domain logic: pure Python, no AWS SDK, no Lambda or CDK.

Kept import-free on purpose: the CDK app imports :mod:`domain.data.contract` at synth time, and importing
this package must not pull pyarrow or numpy into it.
"""
