"""Continuous compliance: the pure decisions (which servers move where).

The daemon side that acts on them (fencing through nova's API, migrations,
durable actions) lives in ``dc_agents``; everything here is pure.
"""
