"""SageMaker training entry point: train, evaluate against the champion, write the model and its records.

The scikit-learn container runs ``python train.py --name value ...`` from this folder (the source
directory), with the contract described in :mod:`mlops_training.environment`; the local cloud runs it
the same way. Everything happens in :mod:`mlops_training.job`; this file only hands over the exit code.
"""

import sys

from mlops_training.job import main

if __name__ == "__main__":
    sys.exit(main())
