"""TTLock Open API: client, adapter, fake peer."""
