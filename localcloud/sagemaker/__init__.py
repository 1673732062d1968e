"""SageMaker in the local cloud: training jobs and endpoints that really run, as local processes.

``runner`` runs training jobs; ``endpoints`` serves real-time endpoints with fleets of ``serving`` model
servers; ``model_packages`` gives the model registry AWS's update semantics and state-change events.
"""
