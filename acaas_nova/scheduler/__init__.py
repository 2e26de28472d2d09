"""The ACaaS scheduler: a nova filter and weigher (glue) over a pure core.

Pure: requirements, precedence, topology, matching, weighing.  Glue:
runtime, request, owners, explain, filters/, weighers/,
extra_spec_validators.  See docs/scheduler.rst.
"""
