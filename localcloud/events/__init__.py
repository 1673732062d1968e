"""Event routing that moto lacks: EventBridge → Lambda targets, S3 → EventBridge in AWS's format."""
