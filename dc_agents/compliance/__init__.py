"""Continuous compliance, the side that acts.

:mod:`~dc_agents.compliance.manager` runs the sweeps (fence, breaker,
plan) and :mod:`~dc_agents.compliance.executor` the durable moves;
:mod:`~dc_agents.compliance.compute` fences hosts and moves servers
through nova's public API; :mod:`~dc_agents.compliance.traits` publishes
trust as placement traits.  Which server goes where is decided by the pure
planner in :mod:`acaas_nova.compliance.planner`.
"""
