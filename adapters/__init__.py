"""AWS adapters: the one place where the runtime code talks to AWS (boto3), behind the domain's protocols."""
