"""The project's tests (a regular package: smdebug-rulesconfig, a dependency of sagemaker-core, installs
a top-level ``tests`` package that would otherwise shadow this one)."""
