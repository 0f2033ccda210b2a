"""Nuki Web API: client, adapter, fake peer."""
