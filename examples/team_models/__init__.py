"""A team's own models: each module defines a builder the platform calls (see churn_xgboost.py)."""
