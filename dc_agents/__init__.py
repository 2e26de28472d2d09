"""The ACaaS software agents (the chapter's §12.3.3 and §12.4).

``dc_agents.dcs`` is DC-S, the server on the controller that registers and
attests compute nodes and computes the domains' chains of trust;
``dc_agents.dcc`` is DC-C, the agent on every compute node that answers
with quotes of its TPM and its IMA measurement list.  They talk over
oslo.messaging RPC (see the ``rpcapi`` module of each).
"""
