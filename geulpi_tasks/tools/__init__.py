"""Operator tools that are not domain logic: the local Redis launcher, generated credentials, the traffic simulator."""
