"""Infrastructure: the CDK stacks and the constructs they compose. Nothing here runs in a Lambda."""
