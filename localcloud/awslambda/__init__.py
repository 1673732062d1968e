"""Lambda for the local cloud: functions run from their deployed code in warm worker subprocesses."""
